"""Large imports run in a Celery worker. Tasks take the job's id, are idempotent (a job that already ran is left
alone) and are queued on commit by the views."""

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
