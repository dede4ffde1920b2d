"""The estimation page, its job, its exports and its API: who sees what (capture-history cells for coordinators
only), the run as a job (queued on commit, idempotent, cached until the records change), the count of
applications without a document, and the Spanish refusal."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Institution, Role
from estimation import selectors, services
from estimation.models import EstimationRun
from records import services as record_services
from records.models import CodeList

from .cast import make_user
from .records_factories import RECEIVED, identity, values
from .records_factories import code as code_of

YEAR = RECEIVED.year


def _refer(officer, document: str | None) -> None:
    """One submitted application of the officer's institution for the person holding ``document`` (None: no
    document, so the person cannot be linked)."""
    identity_data = identity(document_type="none", document_number="") if document is None else identity()
    if document is not None:
        identity_data["document_number"] = document
    institution = officer.memberships.get().institution
    application = record_services.application_create(
        user=officer, institution=institution, values=values(), identity=identity_data
    )
    record_services.application_submit(user=officer, application=application)


@pytest.fixture
def referrals(cast):
    """Three institutions whose referrals overlap (INAMU, PANI and OIJ), plus two undocumented applications."""
    oij = make_user("officer.oij", institution=Institution.objects.get(code="OIJ"), role=Role.OFFICER)
    officers = {"a": cast.officer_a, "b": cast.officer_b, "c": oij}
    # Person n is referred by the institutions in the pattern; 30 people in all, 14 of them on two or more lists.
    patterns = ["a"] * 6 + ["b"] * 5 + ["c"] * 5 + ["ab"] * 6 + ["ac"] * 4 + ["bc"] * 2 + ["abc"] * 2
    for n, pattern in enumerate(patterns):
        for who in pattern:
            _refer(officers[who], f"7-{n:04d}-1111")
    _refer(cast.officer_a, None)
    _refer(cast.officer_b, None)
    return officers


@pytest.fixture(autouse=True)
def _tasks_in_process(eager_celery):
    """The estimation task runs in this process, as in the embedded mode, also where CI has a broker (REDIS_URL):
    the Celery app reads CELERY_TASK_ALWAYS_EAGER once, so its own configuration is set (and put back)."""


def _run(cast, django_capture_on_commit_callbacks, **overrides) -> EstimationRun:
    from django.test import override_settings

    data = {"year_from": YEAR, "year_to": YEAR, "min_list_size": 0, "replications": 100, "seed": 5}
    data.update(overrides)
    # In-process, as in the embedded mode, also where CI has a broker (REDIS_URL).
    with (
        override_settings(CELERY_TASK_ALWAYS_EAGER=True, IMPORT_RUNNER="celery"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        run, _ = services.estimation_request(user=cast.coordinator_a, **data)
    run.refresh_from_db()
    return run


def test_capture_histories_count_persons_and_undocumented_applications_alone(referrals):
    captured = selectors.capture_input(year_from=YEAR, year_to=YEAR)
    assert [entry["label"] for entry in captured.lists] == ["INAMU", "PANI", "OIJ"]
    assert captured.undocumented == 2 and captured.applications == 48
    by_history: dict[int, int] = {}
    for code, _, _, n in captured.cells:
        by_history[code] = by_history.get(code, 0) + n
    # INAMU only: 6 documented people plus its undocumented application; all three lists: 2 people.
    assert by_history[1] == 7 and by_history[2] == 6 and by_history[7] == 2
    assert sum(by_history.values()) == 32


def test_a_person_on_two_lists_takes_a_recorded_sex_and_the_youngest_age(cast):
    """A person is one cell whatever the order of their applications: the sex of the application that records
    F or M (not the one where it is not recorded), a child when the youngest recorded age is under 18."""
    sex = {c: code_of(CodeList.SEX, c) for c in ("F", "U")}

    def refer(officer, document, **overrides):
        identity_data = identity()
        identity_data.update(document_number=document, birth_date=None)  # the ages below are the recorded ones
        institution = officer.memberships.get().institution
        application = record_services.application_create(
            user=officer, institution=institution, values=values(**overrides), identity=identity_data
        )
        record_services.application_submit(user=officer, application=application)

    refer(cast.officer_a, "1-0001-0001", sex=sex["U"], age_at_application=19)
    refer(cast.officer_b, "1-0001-0001", sex=sex["F"], age_at_application=16)
    refer(cast.officer_a, "1-0002-0002", sex=sex["U"], age_at_application=40)
    refer(cast.officer_b, "1-0003-0003", sex=sex["F"], age_at_application=30)
    captured = selectors.capture_input(year_from=YEAR, year_to=YEAR)
    assert [entry["label"] for entry in captured.lists] == ["INAMU", "PANI"]
    assert captured.cells == [[1, "", False, 1], [2, "F", False, 1], [3, "F", True, 1]]
    assert captured.applications == 4 and captured.undocumented == 0


def test_small_lists_are_merged_and_a_coordinators_group_is_one_list(referrals):
    merged = selectors.capture_input(year_from=YEAR, year_to=YEAR, merge=["PANI", "OIJ"])
    assert [(entry["label"], entry["persons"]) for entry in merged.lists] == [("OIJ+PANI", 25), ("INAMU", 19)]
    # INAMU 19 persons, PANI 16, OIJ 13: below 17, PANI and OIJ become one list.
    small = selectors.capture_input(year_from=YEAR, year_to=YEAR, min_list_size=17)
    assert [entry["label"] for entry in small.lists] == ["INAMU", "OIJ+PANI"]


def test_coordinator_runs_an_estimate_and_sees_the_capture_histories(
    cast, referrals, django_capture_on_commit_callbacks, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the task inline, also where CI has a broker
    settings.IMPORT_RUNNER = "celery"  # not a runner process: tests/test_estimation_runner.py has those
    client = cast.client_for(cast.coordinator_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("estimation:run"),
            {
                "year_from": YEAR,
                "year_to": YEAR,
                "min_list_size": 0,
                "replications": 100,
                "seed": 11,
                "p_threshold": 0.02,
                "interval_method": "bca",
            },
        )
    assert response.status_code == 302
    run = EstimationRun.objects.get()
    assert run.status == EstimationRun.Status.SUCCESS and run.progress == 100 and run.duration_seconds is not None
    assert run.interval_low <= run.estimate <= run.interval_high and run.observed == 32
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="capture-histories"' in html and 'data-testid="estimate"' in html
    assert "data-estimation-chart" in html and 'data-testid="candidates-table"' in html
    assert "2 solicitudes no tenían documento de identidad" in html


def test_analyst_sees_estimates_and_intervals_but_never_capture_cells(
    cast, referrals, django_capture_on_commit_callbacks
):
    run = _run(cast, django_capture_on_commit_callbacks)
    client = cast.client_for(cast.analyst_a)
    html = client.get(reverse("estimation:page"), {"run": run.pk}).content.decode()
    assert 'data-testid="estimate"' in html
    assert 'data-testid="capture-histories"' not in html
    analyst_csv = client.get(reverse("estimation:export", args=[run.pk, "csv"])).content.decode("utf-8-sig")
    coordinator = cast.client_for(cast.coordinator_a)
    coordinator_csv = coordinator.get(reverse("estimation:export", args=[run.pk, "csv"])).content.decode("utf-8-sig")
    assert "Historias de captura" in coordinator_csv and "Historias de captura" not in analyst_csv
    rows = list(csv.reader(io.StringIO(analyst_csv)))
    assert any(row and row[0] == "Todas las personas" and row[2] == str(round(run.estimate)) for row in rows)
    analyst_xlsx = load_workbook(io.BytesIO(client.get(reverse("estimation:export", args=[run.pk, "xlsx"])).content))
    coordinator_xlsx = load_workbook(
        io.BytesIO(coordinator.get(reverse("estimation:export", args=[run.pk, "xlsx"])).content)
    )
    assert "Historias de captura" in coordinator_xlsx.sheetnames
    assert "Historias de captura" not in analyst_xlsx.sheetnames and "Estimaciones" in analyst_xlsx.sheetnames


def test_analysts_small_totals_are_protected(cast, referrals, django_capture_on_commit_callbacks, settings):
    settings.DISCLOSURE_K = 100  # every total of the fixture is below it
    run = _run(cast, django_capture_on_commit_callbacks)
    html = cast.client_for(cast.analyst_a).get(reverse("estimation:page"), {"run": run.pk}).content.decode()
    assert "&lt;100" in html
    assert "&lt;100" not in cast.client_for(cast.coordinator_a).get(reverse("estimation:page")).content.decode()


@pytest.mark.parametrize("who", ["officer_a", "admin_a", "nobody"])
def test_officers_admins_and_users_without_role_get_403(cast, who):
    client = cast.client_for(getattr(cast, who))
    assert client.get(reverse("estimation:page")).status_code == 403
    assert client.get(reverse("api-estimate-list"), HTTP_ACCEPT="application/json").status_code == 403


def test_anonymous_goes_to_login(client):
    response = client.get(reverse("estimation:page"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_analyst_cannot_start_a_run(cast, referrals):
    client = cast.client_for(cast.analyst_a)
    response = client.post(reverse("estimation:run"), {"year_from": YEAR, "year_to": YEAR})
    assert response.status_code == 403
    assert not EstimationRun.objects.exists()


def test_api_gives_estimates_and_never_capture_cells_even_to_coordinators(
    cast, referrals, django_capture_on_commit_callbacks
):
    run = _run(cast, django_capture_on_commit_callbacks)
    for user in (cast.coordinator_a, cast.analyst_a):
        client = cast.client_for(user)
        detail = client.get(reverse("api-estimate-detail", args=[run.pk]), HTTP_ACCEPT="application/json").json()
        assert detail["groups"][0]["estimate"] == round(run.estimate)
        assert "histories" not in detail and "cells" not in str(detail)
        listed = client.get(reverse("api-estimate-list"), HTTP_ACCEPT="application/json").json()
        assert [r["id"] for r in listed] == [run.pk]


def test_same_records_reuse_the_run_and_a_change_makes_a_new_one(cast, referrals, django_capture_on_commit_callbacks):
    first = _run(cast, django_capture_on_commit_callbacks)
    again = _run(cast, django_capture_on_commit_callbacks)
    assert again.pk == first.pk and EstimationRun.objects.count() == 1
    page = cast.client_for(cast.coordinator_a).get(reverse("estimation:page"), {"run": first.pk})
    assert 'data-testid="stale"' not in page.content.decode()
    _refer(referrals["c"], "7-0000-1111")  # OIJ now also refers person 0 (so far INAMU's only)
    page = cast.client_for(cast.coordinator_a).get(reverse("estimation:page"), {"run": first.pk})
    assert 'data-testid="stale"' in page.content.decode()
    changed = _run(cast, django_capture_on_commit_callbacks)
    assert changed.pk != first.pk and changed.observed == first.observed


def test_the_task_is_idempotent(cast, referrals, django_capture_on_commit_callbacks):
    run = _run(cast, django_capture_on_commit_callbacks)
    finished = (run.result, run.finished_at)
    assert services.estimation_execute(run_id=run.pk) is None
    run.refresh_from_db()
    assert (run.result, run.finished_at) == finished


def test_fewer_than_three_lists_is_refused_in_spanish(cast, django_capture_on_commit_callbacks):
    for n in range(12):
        _refer(cast.officer_a, f"5-{n:04d}-2222")
        _refer(cast.officer_b, f"5-{n:04d}-2222")
    run = _run(cast, django_capture_on_commit_callbacks)
    assert run.status == EstimationRun.Status.REFUSED
    html = cast.client_for(cast.analyst_a).get(reverse("estimation:page"), {"run": run.pk}).content.decode()
    assert "Sin estimación: se necesitan al menos tres listas" in html


def test_navigation_links_the_page_for_coordinators_and_analysts_only(cast):
    url = reverse("estimation:page")
    for user, shown in ((cast.coordinator_a, True), (cast.analyst_a, True), (cast.officer_a, False)):
        assert (f'href="{url}"' in cast.client_for(user).get(reverse("home")).content.decode()) is shown
