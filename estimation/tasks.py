"""Celery task of the estimation app: takes the run's id, is idempotent (a finished run is not redone, a run
another worker holds is left to it) and is queued on commit by ``services.estimation_request``. In the
embedded mode (no REDIS_URL) it runs in-process after the commit."""

from celery import shared_task

from . import services


@shared_task(name="estimation.tasks.run_estimation", acks_late=True)
def run_estimation(run_id: int) -> int | None:
    run = services.estimation_execute(run_id=run_id)
    return run.pk if run else None
