"""Application.objects fails loudly outside a visibility scope (records/scopes.py): a query built from it
raises instead of returning every institution's cases; the access helpers open the scope; the unscoped manager
and the bare scoped one appear only in the modules allowed to use them (a scan of the source tree)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from accounts import access
from records import scopes
from records.models import Application, Person
from records.scopes import ScopeError, scopes_disabled

from .records_factories import make_application

BASE_DIR = Path(settings.BASE_DIR)
SOURCE_DIRS = ("accounts", "records", "indicators", "estimation", "operations", "conatt_portal")
# The default manager reached by any name: Application.objects, type(application).objects, ...
_OBJECTS = re.compile(
    r"\b(?:Application|type\(\s*application\s*\)|application\.__class__"
    r"|get_model\(\s*[\"']records[\"']\s*,\s*[\"']Application[\"']\s*\))\s*\.\s*objects\b"
)
_ALL_OBJECTS = re.compile(r"\.all_objects\b")


def _sources() -> list[Path]:
    found = []
    for folder in SOURCE_DIRS:
        found += [p for p in (BASE_DIR / folder).rglob("*.py") if "migrations" not in p.parts]
    return sorted(found)


def _uses(pattern: re.Pattern) -> dict[str, list[int]]:
    """Line numbers of each match, over the whole text without comments: a chain may span lines
    (``type(application)`` then ``.objects`` on the next)."""
    uses: dict[str, list[int]] = {}
    for path in _sources():
        code = "\n".join(line.split("#", 1)[0] for line in path.read_text(encoding="utf-8").splitlines())
        for match in pattern.finditer(code):
            uses.setdefault(str(path.relative_to(BASE_DIR)), []).append(code.count("\n", 0, match.start()) + 1)
    return uses


def project_apps() -> set[str]:
    """The top-level folders of the project's own Django apps (installed packages left out), and the project
    package (settings, URLs, the admin site: its app config is the admin's, whose path is Django's)."""
    from django.apps import apps as installed

    found = {settings.ROOT_URLCONF.split(".")[0]}
    for config in installed.get_app_configs():
        path = Path(config.path)
        if path.is_relative_to(BASE_DIR) and not {".venv", "site-packages"} & set(path.parts):
            found.add(path.relative_to(BASE_DIR).parts[0])
    return found


def test_the_scan_reads_every_app_of_the_project():
    """A new app is scanned without anyone remembering to add it (estimation was missed once)."""
    assert {"accounts", "records", "indicators", "estimation", "conatt_portal"} <= project_apps()
    assert project_apps() <= set(SOURCE_DIRS)


def test_the_scan_reads_the_apps():
    names = {str(p.relative_to(BASE_DIR)) for p in _sources()}
    assert {"accounts/access.py", "records/views.py", "records/api/views.py", "records/scopes.py"} <= names


def test_bare_application_objects_only_in_the_allow_list():
    allowed = {*scopes.OBJECTS_ALLOWED, "records/scopes.py"}  # the module that defines the rule names it
    outside = {path: lines for path, lines in _uses(_OBJECTS).items() if path not in allowed}
    assert outside == {}, "read applications through accounts.access (see records/scopes.py)"


def test_unscoped_manager_only_in_the_allow_list():
    allowed = {*scopes.ALL_OBJECTS_ALLOWED, "records/models/applications.py", "records/scopes.py"}
    outside = {path: lines for path, lines in _uses(_ALL_OBJECTS).items() if path not in allowed}
    assert outside == {}, "Application.all_objects is for the modules in records.scopes.ALL_OBJECTS_ALLOWED"


def test_the_scanners_find_what_they_should():
    assert _OBJECTS.search("Application.objects.filter(pk=1)")
    assert _OBJECTS.search("type(application).objects.select_related('x')")
    assert _OBJECTS.search("type(application)\n        .objects.select_related(")
    assert _OBJECTS.search('apps.get_model("records", "Application").objects.none()')
    assert not _OBJECTS.search("Application.all_objects.filter(pk=1)")
    assert not _OBJECTS.search("ImportJob.objects.filter(pk=1)")
    assert _ALL_OBJECTS.search("Application.all_objects.exists()")


@pytest.mark.django_db
def test_a_query_outside_a_scope_raises(cast):
    make_application(cast, state="SUBMITTED")
    with pytest.raises(ScopeError):
        Application.objects.all()
    with pytest.raises(ScopeError):
        Application.objects.filter(institution=cast.institution_a).exists()
    person = Person.objects.get()
    with pytest.raises(ScopeError):  # a reverse relation is scoped like the manager
        list(person.applications.all())


@pytest.mark.django_db
def test_the_access_helpers_open_the_scope_and_filter(cast):
    mine = make_application(cast, state="SUBMITTED")
    # Built inside the helper's scope, the queryset is filtered and evaluated afterwards.
    assert list(access.applications_visible_to(cast.officer_a)) == [mine]
    assert list(access.applications_visible_to(cast.officer_b)) == []
    assert list(access.applications_visible_to(cast.analyst_a)) == []
    assert access.get_application(cast.coordinator_b, mine.pk) == mine
    assert not access.no_applications().exists()


@pytest.mark.django_db
def test_scopes_disabled_is_the_explicit_way_for_everything(cast):
    make_application(cast, state="DRAFT")
    with scopes_disabled():
        assert Application.objects.count() == 1
    with pytest.raises(ScopeError):  # and only inside it
        Application.objects.count()


@pytest.mark.django_db
def test_a_person_without_the_views_visible_set_lists_no_application(cast):
    """records/api/serializers.PersonSerializer used to list every application of the person when the view's
    visible set was missing from its context; it fails closed now."""
    from records.api.serializers import PersonSerializer

    application = make_application(cast, state="SUBMITTED")
    with scopes_disabled():
        person = Person.objects.prefetch_related("applications").get(pk=application.person_id)
    assert PersonSerializer(person).data["applications"] == []
    visible = {application.pk}
    assert PersonSerializer(person, context={"visible_application_ids": visible}).data["applications"] == [
        application.pk
    ]
    assert PersonSerializer(person, context={"visible_application_ids": set()}).data["applications"] == []


@pytest.mark.django_db
def test_the_estimation_counts_submitted_applications_through_access(cast):
    """The estimation's selectors read every application through the bare manager (they raise ScopeError now
    that it is scoped); they read the submitted ones through accounts.access, drafts left out, for anyone."""
    from estimation import selectors

    make_application(cast, state="DRAFT")
    submitted = make_application(cast, state="SUBMITTED")
    assert list(access.applications_counted_in_estimates()) == [submitted]
    year = submitted.received_on.year
    assert selectors.years_with_records() == [year]
    captured = selectors.capture_input(year_from=year, year_to=year)
    assert captured.applications == 1
    assert selectors.records_stamp(year_from=year, year_to=year).startswith("1:")
