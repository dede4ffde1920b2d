"""Faults with a real Redis: a separate redis-server (tests/fault_services.SpareRedis, never the shared one) is
the Celery broker, and is killed (SIGKILL) and started again around saves. Complements
tests/test_indicators_faults.py, whose broker-down case uses a closed port.

A Redis without persistence loses the messages queued before it died; the outbox in the database keeps the
years to recompute, so nothing is lost: the periodic sweep, queued through the restarted broker, catches up."""

from __future__ import annotations

import pytest
import redis
from django.test import override_settings

from conatt_portal.celery import app as celery_app
from indicators import selectors, services, tasks
from indicators.models import RecomputeRun
from records.models import Status

from .fault_services import SpareRedis
from .test_indicators_faults import _save_and_mark, two_years  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def _reset_pools() -> None:
    """Drop Celery's cached connections and producers (they point at the previous broker)."""
    from kombu import pools

    celery_app.pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    pools.reset()  # kombu keeps producer pools per connection in a global registry


@pytest.fixture
def spare_broker():
    server = SpareRedis().start()
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=server.url, task_always_eager=False)
    _reset_pools()
    try:
        with override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=server.url):
            yield server
    finally:
        celery_app.conf.update(saved)
        _reset_pools()
        server.kill()


def _queued(server: SpareRedis) -> int:
    return redis.Redis(host="127.0.0.1", port=server.port).llen("celery")


def test_redis_killed_during_saves_loses_nothing(two_years, spare_broker, django_capture_on_commit_callbacks):  # noqa: F811
    from django.core.cache import cache

    # Redis up: a save queues the recompute on the real broker.
    cache.delete(services.DEBOUNCE_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        _save_and_mark(two_years[2], status=Status.ACCREDITED)
    assert _queued(spare_broker) == 1
    assert services.pending_years() == [2024]

    # Redis killed: the next save still succeeds and its year stays in the outbox.
    spare_broker.kill()
    cache.delete(services.DEBOUNCE_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        _save_and_mark(two_years[0], status=Status.NOT_ACCREDITED)
    two_years[0].refresh_from_db()
    assert two_years[0].status == Status.NOT_ACCREDITED
    assert services.pending_years() == [2023, 2024]

    # Redis back, empty (the queued message died with it): the sweep goes through the broker again ...
    spare_broker.start()
    tasks.recompute_pending.apply_async(kwargs={"trigger": "beat-sweep"}, retry=False)
    assert _queued(spare_broker) == 1
    # ... and, run, recomputes both years from the outbox.
    run_id = tasks.recompute_pending.run(trigger="beat-sweep")
    assert RecomputeRun.objects.get(pk=run_id).outcome == RecomputeRun.Outcome.SUCCESS
    assert services.pending_years() == []
    accredited = selectors.measure_by_year(measure="accredited")
    assert accredited.get(2024) == 2
    assert accredited.get(2023) in (None, 0)
