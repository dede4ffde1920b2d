"""Who viewed a person's identity, on the case page (issue 14.9); requests for another institution's case logged
as failed access, rate-limited; Spanish error pages and admin lists (issue 14.11)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccessEvent

from .api_support import token_client
from .records_factories import make_application
from .security_helpers import login

# --- 14.9: who viewed this person's identity -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_owning_officers_and_coordinators_see_who_viewed_the_identity(cast):
    application = make_application(cast, state="SUBMITTED")
    detail = reverse("records:application_detail", args=[application.pk])
    coordinator = cast.client_for(cast.coordinator_a)
    coordinator.get(reverse("records:application_identity", args=[application.pk]))

    for member in (cast.officer_a, cast.coordinator_b):
        page = cast.client_for(member).get(detail).content.decode()
        assert "Quién consultó los datos de identidad de esta persona" in page, member
        assert cast.coordinator_a.username in page, member

    # Nobody else sees the list: the other institution's officer gets 404 for the case itself.
    assert cast.client_for(cast.officer_b).get(detail).status_code == 404


@pytest.mark.django_db
def test_an_officer_granted_the_case_does_not_see_who_viewed_it(cast):
    """Another institution granted the case works on it but is not answerable for it: no list of viewers."""
    from records.services import application_share

    application = make_application(cast, state="SUBMITTED")
    application_share(user=cast.admin_a, application=application, institution=cast.institution_b)
    cast.client_for(cast.coordinator_a).get(reverse("records:application_identity", args=[application.pk]))
    page = cast.client_for(cast.officer_b).get(reverse("records:application_detail", args=[application.pk]))
    assert page.status_code == 200
    assert "Quién consultó" not in page.content.decode()


# --- 14.9: another institution's case, logged and rate-limited ---------------------------------------------------


@pytest.mark.django_db
def test_asking_for_another_institutions_case_is_logged_as_failed_access(cast):
    cache.clear()
    application = make_application(cast, state="SUBMITTED")
    officer_b = cast.client_for(cast.officer_b)
    assert officer_b.get(reverse("records:application_identity", args=[application.pk])).status_code == 404
    api, _key = token_client(cast.officer_b)
    assert api.get(f"/api/v1/applications/{application.pk}/").status_code == 404
    events = AccessEvent.objects.filter(action=AccessEvent.Action.CASE_NOT_FOUND, user=cast.officer_b)
    assert list(events.order_by("at", "pk").values_list("object_type", "object_id", "detail")) == [
        ("records.application", str(application.pk), "records:application_identity"),
        ("records.application", str(application.pk), "api-application-detail"),
    ]


@pytest.mark.django_db
def test_a_scan_of_case_ids_cannot_flood_the_log(cast, settings):
    cache.clear()
    settings.CASE_NOT_FOUND_LOG_LIMIT = 5
    officer_b = cast.client_for(cast.officer_b)
    for pk in range(900_000, 900_030):
        assert officer_b.get(reverse("records:application_detail", args=[pk])).status_code == 404
    logged = AccessEvent.objects.filter(action=AccessEvent.Action.CASE_NOT_FOUND, user=cast.officer_b)
    assert logged.count() == 6  # five requests, then one row saying the rest were not logged
    assert logged.filter(detail__startswith="rate_limited").count() == 1
    # The limit is per user: a colleague's first 404 is still logged.
    cast.client_for(cast.officer_a).get(reverse("records:application_detail", args=[900_000]))
    assert AccessEvent.objects.filter(action=AccessEvent.Action.CASE_NOT_FOUND, user=cast.officer_a).count() == 1


# --- 14.11: Spanish first ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_403_page_is_spanish_in_the_portals_layout(cast):
    response = cast.client_for(cast.analyst_a).get(reverse("records:application_list"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Acceso no permitido" in page
    assert 'href="/static/css/portal.css"' in page  # the portal's layout
    assert "403 Forbidden" not in page


@pytest.mark.django_db
def test_the_404_page_is_spanish(cast):
    response = cast.client_for(cast.officer_b).get(reverse("records:application_detail", args=[987654]))
    assert response.status_code == 404
    assert "Página no encontrada" in response.content.decode()


def test_the_500_page_is_spanish_and_needs_no_request(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Error del servidor" in response.content.decode()


@pytest.mark.django_db
def test_the_admins_users_list_shows_role_institution_lock_and_two_factor(cast):
    from tests.test_security_login import OFFICE, WRONG

    TOTPDevice.objects.create(user=cast.coordinator_a, name="phone", confirmed=True)
    for _ in range(5):
        login(Client(), cast.officer_a.username, WRONG, ip=OFFICE)
    page = cast.client_for(cast.admin_a).get(reverse("admin:accounts_user_changelist")).content.decode()
    for heading in ("Roles", "Bloqueo de inicio de sesión", "Doble factor", "Nombre de usuario"):
        assert heading in page, heading
    assert "Funcionario/a de institución · INAMU" in page
    assert "bloqueada desde una dirección" in page
    rows = {
        line.split('href="/admin/accounts/user/')[1].split("/")[0]: line
        for line in page.split("<tr")
        if 'href="/admin/accounts/user/' in line
    }
    assert 'alt="True"' in rows[str(cast.coordinator_a.pk)]
    assert 'alt="False"' in rows[str(cast.analyst_a.pk)]


@pytest.mark.django_db
def test_the_audit_list_has_spanish_columns(cast):
    page = cast.client_for(cast.admin_a).get(reverse("admin:accounts_accessevent_changelist")).content.decode()
    for heading in ("Cuándo", "Acción", "Tipo de objeto", "Id del objeto", "Detalle", "Dirección IP"):
        assert heading in page, heading
