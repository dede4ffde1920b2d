"""The declared answer of every URL pattern of the project to every role (GET), and the objects used to fill
patterns that take ids. tests/test_security_urls.py fails for a pattern missing here.

Roles: anonymous; nobody (logged in, no membership); officer_own (officer of institution A, which owns the
objects); officer_other (officer of institution B); coordinator; analyst; admin. Values: an HTTP status, a tuple
of acceptable statuses, LOGIN (302 to a login page) or API_LOGIN (401/403 from the API for anonymous).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.admin.sites import site as admin_site
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

LOGIN = "login"
API_LOGIN = "api-login"
ROLES = ("anonymous", "nobody", "officer_own", "officer_other", "coordinator", "analyst", "admin")
CAST_MEMBER = {
    "anonymous": None,
    "nobody": "nobody",
    "officer_own": "officer_a",
    "officer_other": "officer_b",
    "coordinator": "coordinator_a",
    "analyst": "analyst_a",
    "admin": "admin_a",
}


def row(anonymous, nobody, officer_own, officer_other, coordinator, analyst, admin) -> dict:
    return dict(zip(ROLES, (anonymous, nobody, officer_own, officer_other, coordinator, analyst, admin), strict=True))


# Every model registered in the admin: a newly registered one fails test_every_admin_model_is_declared until it
# is listed here and its pages are in TABLE.
ADMIN_MODELS: list[str] = [
    "accounts.accessevent",
    "accounts.institution",
    "accounts.membership",
    "accounts.user",
    "auth.group",
    "axes.accessattempt",
    "axes.accessfailurelog",
    "axes.accesslog",
    "estimation.estimationrun",
    "indicators.pendingrecompute",
    "indicators.recomputerun",
    "otp_static.staticdevice",
    "otp_totp.totpdevice",
    "records.applicationgroupobjectpermission",
    "records.canton",
    "records.code",
    "records.decision",
    "records.district",
    "records.language",
    "records.population",
    "records.province",
]

# Patterns whose object belongs to an institution (or to one user): the other institution's officer must get
# 404 for every method, and nothing may change.
_CASE = (
    "records:application_detail",
    "records:application_edit",
    "records:application_identity",
    "records:application_submit",
    "records:application_withdraw",
    "records:application_start_review",
    "records:application_history",
    "records:decision_record",
    "records:information_request",
    "records:import_preview",
    "records:import_confirm",
    "records:import_cancel",
    "records:import_progress",
    "api-application-detail",
    "api-application-request-information",
    "api-application-start-review",
    "api-application-submit",
    "api-application-withdraw",
    "api-person-detail",
    "api-decision-detail",
    "api-import-detail",
    "api-import-cancel",
    "api-import-confirm",
    "accounts:api_token_revoke",
    "indicators:saved_view_delete",  # one user's saved view: anyone else, of any role, gets 404
)
INSTITUTION_OBJECT_URLS: dict[str, tuple[str, ...]] = dict.fromkeys(_CASE, ())
# Patterns with ids or slugs whose object is not an institution's case, and why.
NOT_INSTITUTION_SCOPED: dict[str, str] = {
    "records:application_sharing": "admins only (403 for every other role before any lookup)",
    "records:import_template": "a blank template file",
    "accounts:password_set": "a one-time link: its token, not an id, decides (tests/test_accounts_duties.py)",
    "indicators:dimension": "aggregates under disclosure control",
    "indicators:chart": "aggregates under disclosure control",
    "indicators:export": "aggregates under disclosure control",
    "indicators:annual_pdf": "aggregates under disclosure control",
    "public:csv": "public aggregates under disclosure control, the same for everyone",
    "api-indicator-dimension": "aggregates under disclosure control",
    "api-indicators-report": "aggregates under disclosure control",
    "estimation:progress": "estimation runs are aggregates of every institution, for coordinators and analysts",
    "estimation:export": "estimation runs are aggregates of every institution, for coordinators and analysts",
    "api-estimate-detail": "estimation runs are aggregates of every institution, for coordinators and analysts",
    **{f"api-{kind}-detail": "reference data" for kind in ("code", "province", "canton", "district", "language")},
}


def expected_for(name: str) -> dict | None:
    return TABLE.get(name)


# --- the objects -----------------------------------------------------------------------------------------------


@dataclass
class World:
    cast: object
    ids: dict[str, object]
    clients: dict[str, Client] = field(default_factory=dict)

    def value_for(self, name: str, param: str):
        if name.startswith("admin:"):
            return self._admin_value(name, param)
        if param == "pk":
            for prefix, kind in _PK_KIND:
                if name.startswith(prefix):
                    return self.ids[kind]
            return None
        return self.ids.get(param)

    def _admin_value(self, name: str, param: str):
        if name == "admin:view_on_site":
            institution = self.cast.institution_a
            return {
                "content_type_id": ContentType.objects.get_for_model(institution).pk,
                "object_id": institution.pk,
            }[param]
        if param == "app_label":
            return "accounts"
        if param == "id":  # Django's UserAdmin password page
            return self.cast.officer_a.pk
        if param == "pk":  # django-otp's device config and QR code pages
            from django_otp.plugins.otp_totp.models import TOTPDevice

            return TOTPDevice.objects.filter(user=self.cast.officer_a).first().pk
        if param == "history_id":  # simple_history's page of one past version
            model = self._admin_model(name)
            first = model.history.order_by("history_id").first() if hasattr(model, "history") else None
            return first.history_id if first is not None else 0
        if param == "object_id":
            model = self._admin_model(name)
            if model is not None:
                first = model._default_manager.order_by("pk").first()
                return first.pk if first is not None else 0
        return None

    @staticmethod
    def _admin_model(name: str):
        view = name.split(":", 1)[1]
        for model in admin_site._registry:
            if view.startswith(f"{model._meta.app_label}_{model._meta.model_name}_"):
                return model
        return None

    def path_for(self, name: str, route: str, params: list[str]) -> str | None:
        if route == "api/^.*$":
            return "/api/no-such-endpoint/"
        if route == "admin/(?P<url>.*)$":
            return "/admin/no-such-page/"
        if name == route and route.startswith("admin/") and params == ["object_id"]:
            # The admin's unnamed legacy change URL (<id>/ redirects to <id>/change/).
            app_label, model = route.split("/")[1:3]
            return "/" + route.replace(
                "<path:object_id>", str(self._admin_value(f"admin:{app_label}_{model}_", "object_id"))
            )
        kwargs = {}
        for param in params:
            value = self.value_for(name, param)
            if value is None:
                return None
            kwargs[param] = value
        if name.endswith("_simple_history"):  # its pattern has positional groups
            return reverse(name, args=[kwargs["object_id"], kwargs["history_id"]])
        return reverse(name, kwargs=kwargs)


# (name prefix, kind of object whose pk fills <pk>) - first match wins.
_PK_KIND = [
    ("records:import_", "import_job"),
    ("records:", "application"),
    ("accounts:api_token", "api_token"),
    ("indicators:saved_view", "saved_view"),
    ("api-application", "application"),
    ("api-person", "person"),
    ("api-decision", "decision"),
    ("api-code", "code"),
    ("api-province", "province"),
    ("api-canton", "canton"),
    ("api-district", "district"),
    ("api-language", "language"),
    ("api-import", "import_job"),
    ("estimation:", "estimation_run"),
    ("api-estimate", "estimation_run"),
]


def build_world(cast) -> World:
    """Objects of institution A for every pattern with ids, and a logged-in client per role."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.tokens import api_token_create
    from indicators import catalogue, dimensions
    from indicators.saved_views import saved_view_create
    from records.imports import samples
    from records.imports.models import ImportJob
    from records.models import Canton, Code, District, Language, Province

    from .records_factories import make_application

    application = make_application(cast, state="SUBMITTED")
    decided = make_application(cast, state="ACCREDITED")
    officer = cast.client_for(cast.officer_a)
    officer.post(
        reverse("records:import_upload"),
        {"file": SimpleUploadedFile("solicitudes.csv", samples.to_csv(samples.sample_rows(2)))},
    )
    token, _ = api_token_create(user=cast.officer_a, name="matrix", days=5)
    estimation_run = _finished_estimation_run()
    ids = {
        "application": application.pk,
        "person": application.person_id,
        "decision": decided.decision.pk if hasattr(decided, "decision") else decided.decisions.first().pk,
        "import_job": ImportJob.objects.filter(user=cast.officer_a).latest("pk").pk,
        "api_token": token.pk,
        "saved_view": saved_view_create(owner=cast.officer_a, name="matrix", path=reverse("indicators:dashboard")).pk,
        "estimation_run": estimation_run.pk,
        "code": Code.objects.order_by("pk").first().pk,
        "province": Province.objects.order_by("pk").first().pk,
        "canton": Canton.objects.order_by("pk").first().pk,
        "district": District.objects.order_by("pk").first().pk,
        "language": Language.objects.order_by("pk").first().pk,
        "key": "sex",
        "uidb64": "MQ",
        "token": "not-a-valid-token",
        "slug": "relation-means",
        "table": "public-sex",
        "fmt": "csv",
        "file_format": "csv",
        "name": next(iter(dimensions.DIMENSIONS)),
        # The annual report's year: the world recomputes no indicators, so no year has any (404 after the
        # rights are checked); tests/test_reports_annual.py has the PDFs of a year with data.
        "year": max(catalogue.years(), default=2025),
    }
    world = World(cast=cast, ids=ids)
    world.clients = {role: cast.client_for(getattr(cast, m) if m else None) for role, m in CAST_MEMBER.items()}
    return world


def _finished_estimation_run():
    """A finished (refused: two lists only) estimation run, which coordinators and analysts may open."""
    from estimation import analysis
    from estimation.models import EstimationRun

    inputs = {
        "lists": [{"label": c, "institutions": [c], "persons": 3} for c in ("INAMU", "PANI")],
        "cells": [[1, "F", False, 2], [2, "F", True, 2], [3, "M", False, 1]],
        "undocumented": 0,
        "applications": 5,
    }
    result = analysis.analyse(inputs, replications=100, seed=1, p_threshold=0.02, method="bca")
    return EstimationRun.objects.create(
        year_from=2025, year_to=2025, inputs=inputs, input_digest="matrix", status="refused", result=result
    )


# fmt: off
# Admin pages: every other role is sent to the admin's login page.
ADMIN_ONLY = row(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200)
ADMIN_FORBIDDEN = row(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 403)  # read-only or retire-only
ADMIN_REDIRECT = row(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 302)  # legacy URL, or no such object yet

TABLE: dict[str, dict] = {
    # --- pages, API (reviewed against DOMAIN.md's roles) ---
    "home": row(LOGIN, 403, 200, 200, 200, 200, 200),
    "healthz": row(200, 200, 200, 200, 200, 200, 200),
    "set_language": row(302, 302, 302, 302, 302, 302, 302),
    "accounts:login": row(200, 302, 302, 302, 302, 302, 302),
    "accounts:logout": row(405, 405, 405, 405, 405, 405, 405),
    "accounts:password_change": row(LOGIN, 200, 200, 200, 200, 200, 200),
    # A one-time link with a token that is not valid: the page says so, to anyone.
    "accounts:password_set": row(200, 200, 200, 200, 200, 200, 200),
    "accounts:two_factor_setup": row(LOGIN, 302, 302, 302, 302, 302, 302),
    "accounts:two_factor_verify": row(LOGIN, 302, 302, 302, 302, 302, 302),
    "accounts:api_tokens": row(LOGIN, 403, 200, 200, 200, 200, 200),
    "accounts:api_token_revoke": row(LOGIN, 403, 405, 405, 405, 405, 405),
    "records:application_list": row(LOGIN, 403, 200, 200, 200, 403, 403),
    "records:application_create": row(LOGIN, 403, 200, 200, 403, 403, 403),
    "records:queue": row(LOGIN, 403, 403, 403, 200, 403, 403),
    "records:application_detail": row(LOGIN, 403, 200, 404, 200, 403, 403),
    "records:application_edit": row(LOGIN, 403, 302, 404, 403, 403, 403),
    "records:application_identity": row(LOGIN, 403, 200, 404, 200, 403, 403),
    "records:application_submit": row(LOGIN, 403, 200, 404, 403, 403, 403),
    "records:application_withdraw": row(LOGIN, 403, 200, 404, 403, 403, 403),
    "records:application_start_review": row(LOGIN, 403, 405, 405, 405, 403, 403),
    "records:application_history": row(LOGIN, 403, 200, 404, 200, 403, 403),
    "records:decision_record": row(LOGIN, 403, 403, 404, 200, 403, 403),
    "records:information_request": row(LOGIN, 403, 403, 404, 200, 403, 403),
    "records:application_sharing": row(LOGIN, 403, 403, 403, 403, 403, 200),
    "records:cantons_for_province": row(LOGIN, 403, 200, 200, 200, 403, 403),
    "records:districts_for_canton": row(LOGIN, 403, 200, 200, 200, 403, 403),
    "records:import_upload": row(LOGIN, 403, 200, 200, 403, 403, 403),
    "records:import_template": row(LOGIN, 403, 200, 200, 403, 403, 403),
    "records:import_preview": row(LOGIN, 403, 200, 404, 403, 403, 403),
    "records:import_confirm": row(405, 405, 405, 405, 405, 405, 405),
    "records:import_cancel": row(405, 405, 405, 405, 405, 405, 405),
    "records:import_progress": row(LOGIN, 403, 200, 404, 403, 403, 403),
    "records:export_applications": row(LOGIN, 403, 200, 200, 200, 403, 403),
    "indicators:dashboard": row(LOGIN, 403, 200, 200, 200, 200, 200),
    "indicators:dimensions": row(LOGIN, 403, 200, 200, 200, 200, 200),
    "indicators:dimension": row(LOGIN, 403, 200, 200, 200, 200, 200),
    "indicators:intersections": row(LOGIN, 403, 200, 200, 200, 200, 200),
    "indicators:trends": row(LOGIN, 403, 200, 200, 200, 200, 200),
    "indicators:profiles": row(LOGIN, 403, 200, 200, 200, 200, 200),
    "indicators:relations": row(LOGIN, 403, 200, 200, 200, 200, 200),
    "indicators:maps": row(LOGIN, 403, 200, 200, 200, 200, 200),
    "indicators:quality": row(LOGIN, 403, 200, 200, 200, 200, 200),
    "indicators:international": row(LOGIN, 403, 200, 200, 200, 200, 200),
    "indicators:protection": row(LOGIN, 403, 200, 200, 200, 200, 200),
    "indicators:chart": row(LOGIN, 403, 200, 200, 200, 200, 200),
    "indicators:export": row(LOGIN, 403, 200, 200, 200, 200, 200),
    # Saved views: each user's own list; saving is a POST; the delete page is for the owner (officer_own's) only.
    "indicators:saved_views": row(LOGIN, 403, 200, 200, 200, 200, 200),
    "indicators:saved_view_create": row(LOGIN, 403, 405, 405, 405, 405, 405),
    "indicators:saved_view_delete": row(LOGIN, 403, 200, 404, 404, 404, 404),
    # Rights first (as every report page), then the year: the world has no indicators, so any year is 404.
    "indicators:annual_pdf": row(LOGIN, 403, 404, 404, 404, 404, 404),
    # The public statistics: open to everyone, the same page for all.
    "public:statistics": row(200, 200, 200, 200, 200, 200, 200),
    "public:protection": row(200, 200, 200, 200, 200, 200, 200),
    "public:map_data": row(200, 200, 200, 200, 200, 200, 200),
    "public:csv": row(200, 200, 200, 200, 200, 200, 200),
    "estimation:page": row(LOGIN, 403, 403, 403, 200, 200, 403),
    "estimation:run": row(405, 405, 405, 405, 405, 405, 405),
    "estimation:progress": row(LOGIN, 403, 403, 403, 200, 200, 403),
    "estimation:export": row(LOGIN, 403, 403, 403, 200, 200, 403),
    "api-estimate-list": row(API_LOGIN, 403, 403, 403, 200, 200, 403),
    "api-estimate-detail": row(API_LOGIN, 403, 403, 403, 200, 200, 403),
    "api-code-lists": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-countries": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-application-list": row(API_LOGIN, 403, 200, 200, 200, 403, 403),
    "api-application-detail": row(API_LOGIN, 403, 200, 404, 200, 403, 403),
    "api-application-request-information": row(API_LOGIN, 403, 405, 405, 405, 403, 403),
    "api-application-start-review": row(API_LOGIN, 403, 405, 405, 405, 403, 403),
    "api-application-submit": row(API_LOGIN, 403, 405, 405, 405, 403, 403),
    "api-application-withdraw": row(API_LOGIN, 403, 405, 405, 405, 403, 403),
    "api-person-list": row(API_LOGIN, 403, 200, 200, 200, 403, 403),
    "api-person-detail": row(API_LOGIN, 403, 200, 404, 200, 403, 403),
    "api-decision-list": row(API_LOGIN, 403, 200, 200, 200, 403, 403),
    "api-decision-detail": row(API_LOGIN, 403, 200, 404, 200, 403, 403),
    "api-code-list": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-code-detail": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-province-list": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-province-detail": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-canton-list": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-canton-detail": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-district-list": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-district-detail": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-language-list": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-language-detail": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-import-list": row(API_LOGIN, 403, 200, 200, 403, 403, 403),
    "api-import-detail": row(API_LOGIN, 403, 200, 404, 403, 403, 403),
    "api-import-cancel": row(API_LOGIN, 403, 405, 405, 403, 403, 403),
    "api-import-confirm": row(API_LOGIN, 403, 405, 405, 403, 403, 403),
    "api-indicators": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-indicator-dimension": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-indicators-by-year": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-indicators-crosstab": row(API_LOGIN, 403, 400, 400, 400, 400, 400),
    "api-indicators-trend": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-indicators-trend-headline": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-indicators-report": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-schema": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api-docs": row(API_LOGIN, 403, 200, 200, 200, 200, 200),
    "api/^.*$": row(404, 404, 404, 404, 404, 404, 404),
    # --- the Django admin: admins only; read-only models answer 403 to add/delete ---
    "admin/(?P<url>.*)$": row(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 404),
    "admin/accounts/accessevent/<path:object_id>/": ADMIN_REDIRECT,
    "admin/accounts/institution/<path:object_id>/": ADMIN_REDIRECT,
    "admin/accounts/membership/<path:object_id>/": ADMIN_REDIRECT,
    "admin/accounts/user/<path:object_id>/": ADMIN_REDIRECT,
    "admin/auth/group/<path:object_id>/": ADMIN_REDIRECT,
    "admin/axes/accessattempt/<path:object_id>/": ADMIN_REDIRECT,
    "admin/axes/accessfailurelog/<path:object_id>/": ADMIN_REDIRECT,
    "admin/axes/accesslog/<path:object_id>/": ADMIN_REDIRECT,
    "admin/estimation/estimationrun/<path:object_id>/": ADMIN_REDIRECT,
    "admin/indicators/pendingrecompute/<path:object_id>/": ADMIN_REDIRECT,
    "admin/indicators/recomputerun/<path:object_id>/": ADMIN_REDIRECT,
    "admin/otp_static/staticdevice/<path:object_id>/": ADMIN_REDIRECT,
    "admin/otp_totp/totpdevice/<path:object_id>/": ADMIN_REDIRECT,
    "admin/records/applicationgroupobjectpermission/<path:object_id>/": ADMIN_REDIRECT,
    "admin/records/canton/<path:object_id>/": ADMIN_REDIRECT,
    "admin/records/code/<path:object_id>/": ADMIN_REDIRECT,
    "admin/records/decision/<path:object_id>/": ADMIN_REDIRECT,
    "admin/records/district/<path:object_id>/": ADMIN_REDIRECT,
    "admin/records/language/<path:object_id>/": ADMIN_REDIRECT,
    "admin/records/population/<path:object_id>/": ADMIN_REDIRECT,
    "admin/records/province/<path:object_id>/": ADMIN_REDIRECT,
    "admin:accounts_accessevent_add": ADMIN_FORBIDDEN,
    "admin:accounts_accessevent_change": ADMIN_ONLY,
    "admin:accounts_accessevent_changelist": ADMIN_ONLY,
    "admin:accounts_accessevent_delete": ADMIN_FORBIDDEN,
    "admin:accounts_accessevent_history": ADMIN_ONLY,
    "admin:accounts_institution_add": ADMIN_ONLY,
    "admin:accounts_institution_change": ADMIN_ONLY,
    "admin:accounts_institution_changelist": ADMIN_ONLY,
    "admin:accounts_institution_delete": ADMIN_ONLY,
    "admin:accounts_institution_history": ADMIN_ONLY,
    # Roles are granted on the user's page and confirmed or withdrawn by actions: no add, edit or delete here.
    "admin:accounts_membership_add": ADMIN_FORBIDDEN,
    "admin:accounts_membership_change": ADMIN_ONLY,
    "admin:accounts_membership_changelist": ADMIN_ONLY,
    "admin:accounts_membership_delete": ADMIN_FORBIDDEN,
    "admin:accounts_membership_history": ADMIN_ONLY,
    "admin:accounts_user_add": ADMIN_ONLY,
    "admin:accounts_user_change": ADMIN_ONLY,
    "admin:accounts_user_changelist": ADMIN_ONLY,
    "admin:accounts_user_delete": ADMIN_FORBIDDEN,  # accounts are deactivated, never deleted
    "admin:accounts_user_history": ADMIN_ONLY,
    "admin:app_list": ADMIN_ONLY,
    "admin:auth_group_add": ADMIN_FORBIDDEN,
    "admin:auth_group_change": ADMIN_FORBIDDEN,
    "admin:auth_group_changelist": ADMIN_FORBIDDEN,
    "admin:auth_group_delete": ADMIN_FORBIDDEN,
    "admin:auth_group_history": ADMIN_FORBIDDEN,
    "admin:autocomplete": ADMIN_FORBIDDEN,
    "admin:axes_accessattempt_add": ADMIN_FORBIDDEN,
    "admin:axes_accessattempt_change": ADMIN_FORBIDDEN,
    "admin:axes_accessattempt_changelist": ADMIN_FORBIDDEN,
    "admin:axes_accessattempt_delete": ADMIN_FORBIDDEN,
    "admin:axes_accessattempt_history": ADMIN_REDIRECT,
    "admin:axes_accessfailurelog_add": ADMIN_FORBIDDEN,
    "admin:axes_accessfailurelog_change": ADMIN_FORBIDDEN,
    "admin:axes_accessfailurelog_changelist": ADMIN_FORBIDDEN,
    "admin:axes_accessfailurelog_delete": ADMIN_FORBIDDEN,
    "admin:axes_accessfailurelog_history": ADMIN_REDIRECT,
    "admin:axes_accesslog_add": ADMIN_FORBIDDEN,
    "admin:axes_accesslog_change": ADMIN_FORBIDDEN,
    "admin:axes_accesslog_changelist": ADMIN_FORBIDDEN,
    "admin:axes_accesslog_delete": ADMIN_FORBIDDEN,
    "admin:axes_accesslog_history": ADMIN_FORBIDDEN,
    "admin:estimation_estimationrun_add": ADMIN_FORBIDDEN,
    "admin:estimation_estimationrun_change": ADMIN_ONLY,
    "admin:estimation_estimationrun_changelist": ADMIN_ONLY,
    "admin:estimation_estimationrun_delete": ADMIN_FORBIDDEN,
    "admin:estimation_estimationrun_history": ADMIN_ONLY,
    "admin:index": ADMIN_ONLY,
    "admin:indicators_pendingrecompute_add": ADMIN_FORBIDDEN,
    "admin:indicators_pendingrecompute_change": ADMIN_ONLY,  # the cast's applications leave outbox rows
    "admin:indicators_pendingrecompute_changelist": ADMIN_ONLY,
    "admin:indicators_pendingrecompute_delete": ADMIN_FORBIDDEN,
    "admin:indicators_pendingrecompute_history": ADMIN_ONLY,
    "admin:indicators_recomputerun_add": ADMIN_FORBIDDEN,
    "admin:indicators_recomputerun_change": ADMIN_REDIRECT,
    "admin:indicators_recomputerun_changelist": ADMIN_ONLY,
    "admin:indicators_recomputerun_delete": ADMIN_FORBIDDEN,
    "admin:indicators_recomputerun_history": ADMIN_REDIRECT,
    "admin:indicators_recomputerun_rebuild": row(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 405),
    "admin:jsi18n": ADMIN_ONLY,
    "admin:login": row(200, 200, 200, 200, 200, 200, 302),
    "admin:logout": row(302, 302, 302, 302, 302, 302, 405),
    "admin:otp_static_staticdevice_add": ADMIN_FORBIDDEN,
    "admin:otp_static_staticdevice_change": ADMIN_FORBIDDEN,
    "admin:otp_static_staticdevice_changelist": ADMIN_FORBIDDEN,
    "admin:otp_static_staticdevice_delete": ADMIN_FORBIDDEN,
    "admin:otp_static_staticdevice_history": ADMIN_REDIRECT,
    "admin:otp_totp_totpdevice_add": ADMIN_FORBIDDEN,
    "admin:otp_totp_totpdevice_change": ADMIN_FORBIDDEN,
    "admin:otp_totp_totpdevice_changelist": ADMIN_FORBIDDEN,
    "admin:otp_totp_totpdevice_config": ADMIN_FORBIDDEN,
    "admin:otp_totp_totpdevice_delete": ADMIN_FORBIDDEN,
    "admin:otp_totp_totpdevice_history": ADMIN_FORBIDDEN,
    "admin:otp_totp_totpdevice_qrcode": ADMIN_FORBIDDEN,
    "admin:password_change": ADMIN_ONLY,
    "admin:password_change_done": ADMIN_ONLY,
    "admin:records_applicationgroupobjectpermission_add": ADMIN_FORBIDDEN,
    "admin:records_applicationgroupobjectpermission_change": ADMIN_REDIRECT,
    "admin:records_applicationgroupobjectpermission_changelist": ADMIN_ONLY,
    "admin:records_applicationgroupobjectpermission_delete": ADMIN_FORBIDDEN,
    "admin:records_applicationgroupobjectpermission_history": ADMIN_REDIRECT,
    "admin:records_canton_add": ADMIN_ONLY,
    "admin:records_canton_change": ADMIN_ONLY,
    "admin:records_canton_changelist": ADMIN_ONLY,
    "admin:records_canton_delete": ADMIN_ONLY,
    "admin:records_canton_history": ADMIN_ONLY,
    "admin:records_code_add": ADMIN_ONLY,
    "admin:records_code_change": ADMIN_ONLY,
    "admin:records_code_changelist": ADMIN_ONLY,
    "admin:records_code_delete": ADMIN_FORBIDDEN,
    "admin:records_code_history": ADMIN_ONLY,
    "admin:records_code_simple_history": row(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 404),
    "admin:records_decision_add": ADMIN_FORBIDDEN,
    "admin:records_decision_change": ADMIN_ONLY,
    "admin:records_decision_changelist": ADMIN_ONLY,
    "admin:records_decision_delete": ADMIN_FORBIDDEN,
    "admin:records_decision_history": ADMIN_ONLY,
    "admin:records_district_add": ADMIN_ONLY,
    "admin:records_district_change": ADMIN_ONLY,
    "admin:records_district_changelist": ADMIN_ONLY,
    "admin:records_district_delete": ADMIN_ONLY,
    "admin:records_district_history": ADMIN_ONLY,
    "admin:records_language_add": ADMIN_ONLY,
    "admin:records_language_change": ADMIN_ONLY,
    "admin:records_language_changelist": ADMIN_ONLY,
    "admin:records_language_delete": ADMIN_ONLY,
    "admin:records_language_history": ADMIN_ONLY,
    "admin:records_population_add": ADMIN_ONLY,
    "admin:records_population_change": ADMIN_REDIRECT,
    "admin:records_population_changelist": ADMIN_ONLY,
    "admin:records_population_delete": ADMIN_REDIRECT,
    "admin:records_population_history": ADMIN_REDIRECT,
    "admin:records_province_add": ADMIN_ONLY,
    "admin:records_province_change": ADMIN_ONLY,
    "admin:records_province_changelist": ADMIN_ONLY,
    "admin:records_province_delete": ADMIN_ONLY,
    "admin:records_province_history": ADMIN_ONLY,
    "admin:view_on_site": row(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 404),
}
# fmt: on
