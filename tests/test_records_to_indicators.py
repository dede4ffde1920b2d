"""Saving, submitting and deciding an application through the records services reaches the indicators: in
process in the embedded mode, and through a real Celery worker on Redis in CI."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.test import override_settings

from indicators import selectors
from indicators import services as indicator_services
from indicators.models import PendingRecompute
from records.models import Decision

from .celery_support import running_celery_worker
from .records_factories import decide, make_application


def _counts(measure: str, year: int) -> int:
    return selectors.measure_by_year(measure=measure, year_from=year, year_to=year).get(year, 0)


@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_each_workflow_step_updates_the_indicators_in_process(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        indicator_services.recompute_full()
    with django_capture_on_commit_callbacks(execute=True):
        application = make_application(cast, state="UNDER_REVIEW")
    year = application.received_on.year
    assert _counts("received", year) == 1
    assert _counts("accredited", year) == 0

    with django_capture_on_commit_callbacks(execute=True):
        decide(cast, application, outcome=Decision.Outcome.ACCREDITED)
    assert _counts("accredited", year) == 1
    assert _counts("decided", year) == 1
    assert not PendingRecompute.objects.exists()


@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_a_draft_edit_marks_the_change_in_the_outbox_within_its_transaction(cast, django_capture_on_commit_callbacks):
    # Without running the on-commit callbacks, the outbox still holds the change: nothing is lost if the
    # process dies between the commit and the recompute.
    application = make_application(cast, state="DRAFT")
    assert PendingRecompute.objects.filter(application_id=application.pk).exists()


def _wait_for(condition, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.redis
@pytest.mark.postgres  # the worker thread needs its own connection: an in-memory SQLite database is not shared
@pytest.mark.xdist_group("celery_worker")  # see tests/conftest.py: one xdist worker runs every Celery worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@override_settings(CELERY_TASK_ALWAYS_EAGER=False, INDICATORS_DEBOUNCE_SECONDS=1)
def test_a_decision_reaches_the_indicators_through_a_real_worker(cast, celery_conf):
    celery_conf.conf.task_always_eager = False
    cache.delete(indicator_services.DEBOUNCE_KEY)
    indicator_services.recompute_full()
    with running_celery_worker(celery_conf):
        application = make_application(cast, state="UNDER_REVIEW")
        year = application.received_on.year
        decide(cast, application, outcome=Decision.Outcome.ACCREDITED)
        assert _wait_for(lambda: _counts("accredited", year) == 1)
        assert _wait_for(lambda: not PendingRecompute.objects.exists())
