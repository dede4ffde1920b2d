"""A real Celery worker for the tests that need one (marked ``redis``, in the ``celery_worker`` xdist group)."""

from __future__ import annotations

import contextlib

from celery.contrib.testing.worker import start_worker


@contextlib.contextmanager
def running_celery_worker(celery_app):
    """A worker thread on this test process's own broker (settings._test_redis_url), started on an empty queue:
    a task that an earlier test of the same process queued with no worker to run it (a mark after a commit, a
    queued estimation) would otherwise run inside this test, against its data, and be counted as its own."""
    celery_app.control.purge()
    with start_worker(celery_app, perform_ping_check=False, pool="solo", shutdown_timeout=30) as worker:
        yield worker
