"""Writes of the estimation app: requesting a run (a coordinator's choice of period and lists) and executing it
(the Celery task's work). A request whose inputs match a finished run reuses that run: results are cached
until the period's records change (which changes the counts, hence the digest)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts import access
from conatt_portal.runners import heartbeat_limit, process_mode, start_runner_process

from . import codes, selectors
from .models import EstimationRun

logger = logging.getLogger(__name__)

# A run still "running" after this long was lost with its worker; a redelivered task may take it over.
STALE_AFTER_SECONDS = 3600


def _digest(inputs: dict, **parameters) -> str:
    payload = json.dumps({"inputs": inputs, **parameters}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


@transaction.atomic
def estimation_request(
    *,
    user,
    year_from: int,
    year_to: int,
    merge: Sequence[str] = (),
    min_list_size: int = 0,
    replications: int = 1000,
    seed: int = 2024,
    p_threshold: float = 0.02,
    interval_method: str = codes.BCA,
) -> tuple[EstimationRun, bool]:
    """Read the period's capture histories and queue a run for them, or return the run that already holds (or
    is computing) the same inputs. Returns (run, created). The task is queued when the transaction commits."""
    if not access.can_run_estimation(user):
        raise PermissionDenied
    if year_from > year_to:
        raise ValueError("year_from after year_to")
    if interval_method not in codes.METHODS:
        raise ValueError(f"unknown interval method {interval_method!r}")
    captured = selectors.capture_input(year_from=year_from, year_to=year_to, merge=merge, min_list_size=min_list_size)
    inputs = captured.as_json()
    parameters = {
        "replications": replications,
        "seed": seed,
        "p_threshold": p_threshold,
        "interval_method": interval_method,
    }
    digest = _digest(inputs, **parameters, period=[year_from, year_to])
    estimation_runs_sweep_embedded()
    existing = (
        EstimationRun.objects.filter(input_digest=digest)
        .exclude(status=EstimationRun.Status.FAILED)
        .order_by("-requested_at", "-id")
        .first()
    )
    if existing is not None:
        return existing, False
    run = EstimationRun.objects.create(
        requested_by=user,
        year_from=year_from,
        year_to=year_to,
        inputs=inputs,
        input_digest=digest,
        records_stamp=selectors.records_stamp(year_from=year_from, year_to=year_to),
        heartbeat_at=timezone.now(),  # alive from now on, even while it waits for its runner
        **parameters,
    )
    transaction.on_commit(lambda: _start(run.pk))
    return run, True


def _start(run_id: int) -> None:
    """Outside the request in the embedded mode: a runner process of its own (``manage.py estimation_run``, the
    mechanism large imports use, conatt_portal.runners), so the coordinator's request answers at once and no web
    worker is held for minutes. With a broker, the Celery task (which runs inline where
    CELERY_TASK_ALWAYS_EAGER is set). Read at call time, so a test or a deployment that switches modes is
    obeyed."""
    from . import tasks  # the task module imports this one

    if process_mode():
        task_id = start_runner_process("estimation_run", run_id)
    else:
        task_id = getattr(tasks.run_estimation.delay(run_id), "id", "") or ""
    EstimationRun.objects.filter(pk=run_id).update(task_id=task_id[:100])


def estimation_runs_sweep(*, now=None) -> int:
    """Mark failed every queued or running run whose heartbeat is older than IMPORT_HEARTBEAT_MINUTES: its
    runner died (killed, out of memory, the machine restarted) and would never finish it. Returns how many."""
    limit = heartbeat_limit(now)
    silent = EstimationRun.objects.filter(
        status__in=(EstimationRun.Status.QUEUED, EstimationRun.Status.RUNNING), heartbeat_at__lt=limit
    )
    closed = silent.update(
        status=EstimationRun.Status.FAILED,
        error="The runner stopped before the run finished (no heartbeat).",
        finished_at=timezone.now(),
    )
    if closed:
        logger.warning("%s estimation runs swept: no heartbeat since %s", closed, limit.isoformat())
    return closed


def estimation_runs_sweep_embedded() -> None:
    """The sweep where no beat runs it (the embedded mode): when the page is seen or a run is requested."""
    if process_mode():
        estimation_runs_sweep()


def _claim(run_id: int) -> EstimationRun | None:
    """Mark the run as running, unless it is finished or another worker is on it (idempotence)."""
    with transaction.atomic():
        run = EstimationRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.is_finished:
            return None
        started = run.started_at if run.status == EstimationRun.Status.RUNNING else None
        if started is not None and (timezone.now() - started).total_seconds() < STALE_AFTER_SECONDS:
            return None
        run.status = EstimationRun.Status.RUNNING
        run.started_at = timezone.now()
        run.progress = 0
        run.heartbeat_at = run.started_at
        run.save(update_fields=["status", "started_at", "progress", "heartbeat_at"])
        return run


def _model_label(run: EstimationRun, model: list) -> str:
    labels = [entry["label"] for entry in run.inputs.get("lists", [])]
    return ", ".join(f"{labels[i]} × {labels[j]}" for i, j in model)


def estimation_execute(*, run_id: int) -> EstimationRun | None:
    """Fit and bootstrap the run's inputs and store the result (the task's work). Safe to call twice: a
    finished run is left as it is."""
    run = _claim(run_id)
    if run is None:
        return None
    started = time.monotonic()
    last = [0, started]

    def progress(share: float) -> None:
        """Written to the run row as the bootstrap goes (the page polls it), with the heartbeat: every 2 points,
        or every 10 seconds when a point takes longer."""
        percent = int(share * 100)
        if percent >= last[0] + 2 or percent == 100 or time.monotonic() - last[1] >= 10:
            last[0], last[1] = percent, time.monotonic()
            EstimationRun.objects.filter(pk=run.pk).update(progress=min(percent, 99), heartbeat_at=timezone.now())

    # The models need numpy, scipy and statsmodels: imported here, by the process that runs the estimate (a
    # worker, or the runner process of the embedded mode), so the web process does not carry them to show pages.
    from . import analysis

    try:
        result = analysis.analyse(
            run.inputs,
            replications=run.replications,
            seed=run.seed,
            p_threshold=run.p_threshold,
            method=run.interval_method,
            progress=progress,
        )
    except Exception as error:  # noqa: BLE001  (recorded on the run row, see below)
        EstimationRun.objects.filter(pk=run.pk).update(
            status=EstimationRun.Status.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
            duration_seconds=time.monotonic() - started,
        )
        # The row says "failed" with the error; the log has the trace. Not re-raised: in the embedded mode the
        # task runs inside the coordinator's request, which should show the failed run, not an error page.
        logger.exception("Estimation run %s failed", run.pk)
        return EstimationRun.objects.get(pk=run.pk)
    overall = result["overall"]
    run.result = result
    run.observed = overall["observed"]
    run.status = EstimationRun.Status.REFUSED if overall.get("refusal") else EstimationRun.Status.SUCCESS
    run.estimate = overall.get("estimate")
    run.interval_low = overall.get("low")
    run.interval_high = overall.get("high")
    run.chosen_model = _model_label(run, overall.get("model", []))[:500]
    run.progress = 100
    run.finished_at = timezone.now()
    run.duration_seconds = time.monotonic() - started
    run.save()
    return run
