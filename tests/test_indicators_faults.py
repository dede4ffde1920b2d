"""Faults of the indicator engine: a build that fails half-way, a reader during a recompute, incremental runs,
the broker unreachable when a record is saved, and two recomputes at once."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.test import override_settings

from conatt_portal.celery import app as celery_app
from indicators import selectors, services, tasks
from indicators.disclosure import Count
from indicators.models import ApplicationFact, IndicatorCell, IndicatorVersion, PendingRecompute, RecomputeRun
from indicators.recompute import seam
from indicators.recompute.builder import Builder
from records.models import Status

from .indicator_factories import application, code, person


def _save_and_mark(app, **changes):
    """What the records services do: change the application and mark its years, in one transaction."""
    with transaction.atomic():
        years = {app.received_on.year, app.decided_on.year if app.decided_on else None}
        for name, value in changes.items():
            setattr(app, name, value)
        app.save()
        years |= {app.received_on.year, app.decided_on.year if app.decided_on else None}
        services.recompute_mark_dirty(years=years)


@pytest.fixture
def two_years(cast):
    inamu = cast.institution_a
    apps = [
        application(
            institution=inamu,
            received_on=date(2023, 5, 2),
            status=Status.ACCREDITED,
            decided_on=date(2023, 5, 4),
            sex="F",
            age=20,
            nationalities=["NI"],
        ),
        application(
            institution=inamu,
            received_on=date(2024, 5, 2),
            status=Status.ACCREDITED,
            decided_on=date(2024, 5, 6),
            sex="F",
            age=20,
            nationalities=["NI"],
        ),
        application(
            institution=inamu,
            received_on=date(2024, 6, 3),
            status=Status.NOT_ACCREDITED,
            decided_on=date(2024, 6, 4),
            sex="M",
            age=33,
            nationalities=["CR"],
        ),
    ]
    services.recompute_full()
    return apps


@pytest.mark.django_db
def test_a_build_failing_half_way_leaves_the_old_version_and_an_error_row(two_years, monkeypatch):
    before = IndicatorVersion.objects.get(is_current=True)
    counts = selectors.measure_by_year(measure="received")
    application(institution=two_years[0].institution, received_on=date(2024, 9, 2), status=Status.SUBMITTED)

    def explode():
        raise RuntimeError("disk full (injected)")

    monkeypatch.setattr(seam, "hook", explode)
    with pytest.raises(RuntimeError):
        services.recompute_full(trigger="test")
    assert IndicatorVersion.objects.get(is_current=True) == before
    assert selectors.measure_by_year(measure="received") == counts
    failed = RecomputeRun.objects.first()
    assert failed.outcome == RecomputeRun.Outcome.FAILED
    assert "disk full (injected)" in failed.error and failed.finished_at is not None
    monkeypatch.setattr(seam, "hook", None)
    services.recompute_full()
    assert selectors.measure_by_year(measure="received")[2024] == counts[2024] + 1


@pytest.mark.django_db
@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_incremental_recompute_touches_only_the_dirty_years(two_years, django_capture_on_commit_callbacks):
    cells_2023 = set(IndicatorCell.objects.filter(received_year=2023, decided_year=2023).values_list("pk", flat=True))
    fact_2023 = ApplicationFact.objects.get(application_id=two_years[0].pk)
    assert cells_2023
    with django_capture_on_commit_callbacks(execute=True):
        _save_and_mark(two_years[1], sex=code("sex", "M"))
    run = RecomputeRun.objects.first()
    assert run.kind == RecomputeRun.Kind.INCREMENTAL and run.years == [2024]
    assert run.outcome == RecomputeRun.Outcome.SUCCESS
    # 2023 untouched (same rows), 2024 recomputed.
    assert (
        set(IndicatorCell.objects.filter(received_year=2023, decided_year=2023).values_list("pk", flat=True))
        == cells_2023
    )
    assert ApplicationFact.objects.get(application_id=two_years[0].pk).pk == fact_2023.pk
    assert selectors.crosstab(measure="received", dims=["sex"], year_from=2024, year_to=2024) == {("M",): 2}
    assert selectors.crosstab(measure="received", dims=["sex"], year_from=2023, year_to=2023) == {("F",): 1}
    assert not PendingRecompute.objects.exists()


@pytest.mark.django_db
@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_moving_an_application_between_years(two_years, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _save_and_mark(two_years[0], received_on=date(2024, 1, 8), decided_on=date(2024, 1, 10))
    assert selectors.measure_by_year(measure="received") == {2024: 3}
    assert selectors.measure_by_year(measure="accredited") == {2024: 2}
    full = {y: selectors.measure_by_year(measure="accredited_persons").get(y) for y in (2023, 2024)}
    services.recompute_full()
    assert {y: selectors.measure_by_year(measure="accredited_persons").get(y) for y in (2023, 2024)} == full


@pytest.fixture
def broker_down():
    """Point Celery at a closed port and turn off in-process execution, as when Redis is unreachable."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager", "broker_connection_retry")}
    celery_app.conf.update(broker_url="redis://127.0.0.1:6390/0", task_always_eager=False)
    _reset_connections()
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL="redis://127.0.0.1:6390/0"):
        yield
    celery_app.conf.update(saved)
    _reset_connections()


def _reset_connections():
    """Drop Celery's cached connection and producer pools so the next publish uses the current broker_url."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.mark.django_db
def test_save_succeeds_with_the_broker_down_and_the_sweep_catches_up(
    two_years, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _save_and_mark(two_years[2], status=Status.ACCREDITED)
    two_years[2].refresh_from_db()
    assert two_years[2].status == Status.ACCREDITED  # the save is committed
    assert services.pending_years() == [2024]  # and remembered
    assert selectors.measure_by_year(measure="accredited")[2024] == 1  # not yet recomputed
    # The broker is back: the periodic sweep (the same task) recomputes what was pending.
    run_id = tasks.recompute_pending.run(trigger="beat-sweep")
    assert RecomputeRun.objects.get(pk=run_id).outcome == RecomputeRun.Outcome.SUCCESS
    assert services.pending_years() == []
    assert selectors.measure_by_year(measure="accredited")[2024] == 2


@pytest.mark.django_db
def test_mark_dirty_keeps_nothing_when_the_change_rolls_back(two_years):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.recompute_mark_dirty(years=[2024])
        raise RuntimeError("validation failed")
    assert services.pending_years() == []


@pytest.mark.django_db
def test_command_runs_the_same_service(two_years):
    from django.core.management import call_command

    call_command("recompute_indicators", "--full")
    run = RecomputeRun.objects.first()
    assert run.kind == RecomputeRun.Kind.FULL and run.trigger == "command" and run.rows_written > 0
    assert IndicatorVersion.objects.count() == 1  # the old version was dropped after the swap
    call_command("recompute_indicators")  # nothing pending: no run
    assert RecomputeRun.objects.first() == run


# -------------------------------------------------------------------- PostgreSQL: real concurrency


def _in_thread(target):
    result = {}

    def body():
        try:
            result["value"] = target()
        except Exception as error:  # pragma: no cover - reported by the assertion below
            result["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread, result


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readers_see_the_old_version_until_the_swap_and_a_second_recompute_skips(cast, monkeypatch):
    application(institution=cast.institution_a, received_on=date(2024, 2, 5), status=Status.SUBMITTED)
    services.recompute_full()
    application(institution=cast.institution_a, received_on=date(2024, 2, 6), status=Status.SUBMITTED)
    inside, release = threading.Event(), threading.Event()

    def pause():
        inside.set()
        assert release.wait(30)

    monkeypatch.setattr(seam, "hook", pause)
    thread, result = _in_thread(lambda: services.recompute_full(trigger="first"))
    assert inside.wait(30)
    # New cells are written but not committed: readers see the old version.
    assert selectors.measure_by_year(measure="received") == {2024: 1}
    # A second recompute that must not wait skips, and leaves a row saying so.
    monkeypatch.setattr(seam, "hook", None)
    skipped = services.recompute_full(wait=False, trigger="second")
    assert skipped.outcome == RecomputeRun.Outcome.SKIPPED
    # One that may wait runs after the first has committed.
    waiter, waited = _in_thread(lambda: services.recompute_full(trigger="third"))
    release.set()
    thread.join(30)
    waiter.join(60)
    assert "error" not in result and "error" not in waited
    first, third = result["value"], waited["value"]
    assert first.outcome == third.outcome == RecomputeRun.Outcome.SUCCESS
    assert third.started_at >= first.started_at and third.finished_at > first.finished_at
    assert selectors.measure_by_year(measure="received") == {2024: 2}
    assert IndicatorVersion.objects.filter(is_current=True).get() == third.version


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rebuild_failing_after_committing_its_facts_keeps_the_old_version_and_the_next_recompute_is_full(
    cast, monkeypatch
):
    first = application(institution=cast.institution_a, received_on=date(2024, 2, 5), status=Status.SUBMITTED, sex="F")
    services.recompute_full()
    before = IndicatorVersion.objects.get(is_current=True)
    application(institution=cast.institution_a, received_on=date(2024, 2, 6), status=Status.SUBMITTED, sex="M")

    def explode(*args, **kwargs):
        raise RuntimeError("connection lost (injected)")

    # Over several connections the facts are committed before the cells; one connection's cells then fail.
    with override_settings(INDICATORS_BUILD_CONNECTIONS=2):
        monkeypatch.setattr(Builder, "_insert_pass", explode)
        with pytest.raises(RuntimeError, match="injected"):
            services.recompute_full(trigger="test")
        monkeypatch.undo()
    assert IndicatorVersion.objects.get(is_current=True) == before
    assert selectors.measure_by_year(measure="received") == {2024: 1}
    assert ApplicationFact.objects.count() == 2  # the failed rebuild's facts are committed, ahead of the cells
    assert RecomputeRun.objects.first().outcome == RecomputeRun.Outcome.FAILED

    # An edit marks one application only; its difference would be taken against facts the cells never saw, so
    # the recompute is a full one, and it drops the failed rebuild's version.
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        _save_and_mark(first, sex=code("sex", "M"))
    run = RecomputeRun.objects.first()
    assert run.kind == RecomputeRun.Kind.FULL and run.outcome == RecomputeRun.Outcome.SUCCESS
    assert selectors.measure_by_year(measure="received") == {2024: 2}
    assert selectors.crosstab(measure="received", dims=["sex"], year_from=2024, year_to=2024) == {("M",): 2}
    assert list(IndicatorVersion.objects.values_list("is_current", flat=True)) == [True]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rebuild_goes_on_with_one_connection_when_no_other_can_be_opened(cast, monkeypatch):
    application(
        institution=cast.institution_a,
        received_on=date(2024, 2, 5),
        status=Status.ACCREDITED,
        decided_on=date(2024, 2, 7),
        sex="F",
    )
    application(institution=cast.institution_a, received_on=date(2023, 3, 1), status=Status.SUBMITTED, sex="M")
    services.recompute_full()
    expected = _snapshot()
    wrapper = type(connections["default"])
    real = wrapper.ensure_connection

    def refused_outside_the_main_thread(self):
        if threading.current_thread() is not threading.main_thread():
            raise OperationalError("sorry, too many clients already (injected)")
        return real(self)

    monkeypatch.setattr(wrapper, "ensure_connection", refused_outside_the_main_thread)
    with override_settings(INDICATORS_BUILD_CONNECTIONS=2):
        run = services.recompute_full(trigger="test")
    monkeypatch.undo()
    assert run.outcome == RecomputeRun.Outcome.SUCCESS
    assert _snapshot() == expected


def _snapshot():
    """Every measure by year and a sample of cell sets of each shape, as the selectors return them."""
    from indicators.dimensions import MEASURES

    shapes = [
        ["sex"],
        ["institution", "age_group"],
        ["nationality", "sex", "age_group"],
        ["exploitation_form", "means"],
        ["victim_group", "exploitation_form", "exploitation_country"],
        ["recruitment_place", "exploitation_place"],
        ["exploitation_province"],
    ]
    result = {m: selectors.measure_by_year(measure=m) for m in MEASURES}
    for measure in ("received", "accredited", "accredited_persons", "pending"):
        for dims in shapes:
            result[(measure, *dims)] = selectors.crosstab(measure=measure, dims=dims)
    result["timeliness"] = selectors.timeliness_by_year(filters={"institution": "INAMU"})
    result["profiles"] = selectors.profiles()
    return _with_keys(result)


def _with_keys(value):
    """The snapshot with every count's cell key beside it: the difference must give the cells the same keys
    as a full rebuild, or the same cell would be perturbed differently after an edit."""
    if isinstance(value, Count):
        return (int(value), value.key)
    if isinstance(value, dict):
        return {k: _with_keys(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_with_keys(v) for v in value)
    return value


@pytest.mark.django_db
@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_applying_the_difference_of_changed_applications_equals_a_full_rebuild(
    cast, django_capture_on_commit_callbacks
):
    inamu, pani = cast.institution_a, cast.institution_b
    same_a, same_b = person(inamu, "d" * 64), person(pani, "d" * 64)
    first = application(
        institution=inamu,
        person=same_a,
        received_on=date(2024, 3, 4),
        status=Status.ACCREDITED,
        decided_on=date(2024, 3, 6),
        sex="F",
        age=15,
        nationalities=["NI"],
        forms=["SEXUAL"],
        means=["FRAUD"],
        exploitation_countries=["PA"],
        exploitation_districts=["20101"],
    )
    second = application(
        institution=pani,
        person=same_b,
        received_on=date(2024, 5, 6),
        status=Status.ACCREDITED,
        decided_on=date(2024, 5, 8),
        sex="F",
        age=15,
        nationalities=["NI"],
        forms=["SEXUAL"],
    )
    other = application(
        institution=pani,
        received_on=date(2023, 12, 20),
        status=Status.UNDER_REVIEW,
        sex="M",
        age=30,
        due_on=date(2024, 1, 5),
    )
    application(
        institution=inamu,
        received_on=date(2023, 2, 1),
        status=Status.NOT_ACCREDITED,
        decided_on=date(2023, 2, 3),
        sex="M",
        age=40,
        forms=["LABOUR"],
    )
    services.recompute_full()

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        # The duplicated person's second application is no longer accredited (a correction) ...
        second.status, second.decided_on = Status.NOT_ACCREDITED, date(2024, 6, 3)
        second.save()
        # ... the first one gains a form of exploitation and changes its age ...
        first.age_at_application = 18
        first.save()
        first.exploitation_forms.add(code("exploitation_form", "LABOUR"))
        # ... and the open application from 2023 is decided in 2025.
        other.status, other.decided_on = Status.ACCREDITED, date(2025, 1, 10)
        other.save()
        services.recompute_mark_dirty(application_ids=[first.pk, second.pk, other.pk])
    run = RecomputeRun.objects.first()
    assert run.kind == RecomputeRun.Kind.INCREMENTAL and run.outcome == RecomputeRun.Outcome.SUCCESS
    assert run.years == [2023, 2024, 2025]
    incremental = _snapshot()
    services.recompute_full()
    assert _snapshot() == incremental
    assert {year: n for year, (n, _key) in incremental["accredited_persons"].items()} == {2024: 1, 2025: 1}


@pytest.mark.django_db
def test_command_reports_a_failed_recompute(two_years, monkeypatch):
    from django.core.management import CommandError, call_command

    def explode():
        raise RuntimeError("injected")

    monkeypatch.setattr(seam, "hook", explode)
    with pytest.raises(CommandError, match="RuntimeError"):
        call_command("recompute_indicators", "--full")
    assert RecomputeRun.objects.first().outcome == RecomputeRun.Outcome.FAILED
