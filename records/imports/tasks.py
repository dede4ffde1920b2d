"""Large imports run in a Celery worker. Tasks take the job's id, are idempotent (a job that already ran is left
alone) and are queued on commit by records.imports.runner.import_step_run."""

from celery import shared_task

from . import services


@shared_task(name="records.imports.preview")
def import_preview_task(job_id: int) -> None:
    services.import_preview(job_id=job_id)


@shared_task(name="records.imports.confirm")
def import_confirm_task(job_id: int) -> None:
    services.import_confirm(job_id=job_id)


@shared_task(name="records.imports.expire")
def import_jobs_expire_task() -> int:
    """Daily: close stale import jobs and delete their files (see services.import_jobs_expire)."""
    return services.import_jobs_expire()


@shared_task(name="records.imports.sweep")
def import_jobs_sweep_task() -> int:
    """Every few minutes: fail running jobs whose runner died and delete their files (runner.import_jobs_sweep)."""
    from .runner import import_jobs_sweep

    return import_jobs_sweep()
