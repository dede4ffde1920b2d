"""A committed change reaches the indicators through a real Celery worker and real Redis (CI), debounced."""

from __future__ import annotations

import time
from datetime import date

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings

from indicators import selectors, services
from indicators.models import RecomputeRun
from records.models import Status

from .celery_support import running_celery_worker
from .indicator_factories import application


def _wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.redis
@pytest.mark.xdist_group("celery_worker")  # see tests/conftest.py: one xdist worker runs every Celery worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@override_settings(CELERY_TASK_ALWAYS_EAGER=False, INDICATORS_DEBOUNCE_SECONDS=2)
def test_saves_reach_the_indicators_through_a_worker_once_per_burst(cast, celery_conf):
    celery_conf.conf.task_always_eager = False
    cache.delete(services.DEBOUNCE_KEY)
    application(institution=cast.institution_a, received_on=date(2024, 3, 4), status=Status.SUBMITTED)
    services.recompute_full()
    with running_celery_worker(celery_conf):
        # A burst of five saves, each in its own transaction, as five officers clicking "save".
        for day in range(5):
            with transaction.atomic():
                app = application(
                    institution=cast.institution_b, received_on=date(2024, 4, 1 + day), status=Status.SUBMITTED
                )
                services.recompute_mark_dirty(years=[app.received_on.year])
        assert _wait_for(lambda: selectors.measure_by_year(measure="received").get(2024) == 6)
        assert _wait_for(lambda: not services.pending_years())
        time.sleep(3)  # let a second (wrongly debounced) task show up if there were one
    incremental = RecomputeRun.objects.filter(kind=RecomputeRun.Kind.INCREMENTAL)
    assert incremental.count() == 1
    assert incremental.get().outcome == RecomputeRun.Outcome.SUCCESS
    assert incremental.get().years == [2024]
