# ruff: noqa: F811  (the referrals fixture is imported, then named as a parameter)
"""Estimation runs outside the request in the embedded mode (issue 16): the coordinator's request answers at once,
a real runner process (``manage.py estimation_run``) writes the bootstrap's progress to the run row as it goes, and
a runner killed in the middle leaves a run that the sweep marks failed."""

from __future__ import annotations

import datetime
import signal
import sqlite3
import subprocess
import sys

import pytest
from django.urls import reverse
from django.utils import timezone

from estimation import services
from estimation.models import EstimationRun

from .fault_services import wait_for
from .process_support import SharedDatabase
from .test_estimation_pages import YEAR, referrals  # noqa: F401 - the fixture

TRANSACTIONAL = pytest.mark.django_db(transaction=True, serialized_rollback=True)
FORM = {"year_from": YEAR, "year_to": YEAR, "min_list_size": 0, "seed": 3, "p_threshold": 0.02}


def test_in_embedded_mode_the_request_answers_at_once_and_leaves_the_run_to_a_runner(
    cast,
    referrals,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.IMPORT_RUNNER = "process"
    client = cast.client_for(cast.coordinator_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("estimation:run"), {**FORM, "replications": 100, "interval_method": "bca"})
    run = EstimationRun.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"?run={run.pk}")
    assert run.status == EstimationRun.Status.QUEUED and run.estimate is None and run.heartbeat_at is not None
    assert len(callbacks) == 1  # the runner start, on commit
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="run-progress"' in page and reverse("estimation:progress", args=[run.pk]) in page


def _row(database: SharedDatabase, run_id: int) -> tuple[str, int]:
    if database.sqlite:
        with sqlite3.connect(database.file) as connection:
            sql = "SELECT status, progress FROM estimation_estimationrun WHERE id = ?"
            return connection.execute(sql, [run_id]).fetchone()
    return EstimationRun.objects.values_list("status", "progress").get(pk=run_id)


@TRANSACTIONAL
def test_a_runner_killed_in_the_middle_is_swept_failed(cast, referrals, settings, tmp_path, celery_conf):
    settings.IMPORT_RUNNER = "celery"
    # Queued, not run here: the Celery app reads CELERY_TASK_ALWAYS_EAGER once (eager without REDIS_URL), so its
    # own configuration says so; the message goes to the broker (memory:// without Redis), which nobody consumes.
    celery_conf.conf.task_always_eager = False
    run, _ = services.estimation_request(user=cast.coordinator_a, **FORM, replications=5000)
    database = SharedDatabase(tmp_path).export()
    process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
        [sys.executable, "manage.py", "estimation_run", str(run.pk)],
        cwd=str(settings.BASE_DIR),
        env=database.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # The bootstrap's progress reaches the row while it runs, seen from this process.
        assert wait_for(lambda: _row(database, run.pk)[1] > 0, timeout=120, interval=0.05)
        status, progress = _row(database, run.pk)
        assert status == EstimationRun.Status.RUNNING and 0 < progress < 100
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=15)
    database.load()

    run.refresh_from_db()
    assert run.status == EstimationRun.Status.RUNNING and run.estimate is None
    assert services.estimation_runs_sweep() == 0  # its heartbeat is recent
    later = timezone.now() + datetime.timedelta(minutes=settings.IMPORT_HEARTBEAT_MINUTES + 1)
    assert services.estimation_runs_sweep(now=later) == 1
    run.refresh_from_db()
    assert run.status == EstimationRun.Status.FAILED and run.finished_at is not None and run.error
    assert services.estimation_runs_sweep(now=later) == 0


def test_in_embedded_mode_seeing_the_page_sweeps_dead_runs(cast, referrals, settings, celery_conf):
    settings.IMPORT_RUNNER = "celery"
    celery_conf.conf.task_always_eager = False  # queued, not run here (see the test above)
    run, _ = services.estimation_request(user=cast.coordinator_a, **FORM, replications=100)
    stale = timezone.now() - datetime.timedelta(minutes=settings.IMPORT_HEARTBEAT_MINUTES + 1)
    EstimationRun.objects.filter(pk=run.pk).update(status=EstimationRun.Status.RUNNING, heartbeat_at=stale)
    settings.IMPORT_RUNNER = "process"
    client = cast.client_for(cast.coordinator_a)
    assert client.get(reverse("estimation:progress", args=[run.pk])).json()["finished"] is True
    run.refresh_from_db()
    assert run.status == EstimationRun.Status.FAILED
    page = client.get(f"{reverse('estimation:page')}?run={run.pk}").content.decode()
    assert "La estimación falló" in page and 'data-testid="run-progress"' not in page
