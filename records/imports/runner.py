"""Where an import step runs, the one rule the pages and the API both call, and the sweep of jobs whose runner
died.

A file up to ``IMPORT_SYNC_MAX_BYTES`` is checked (or written) within the request. A larger one runs outside it,
queued on commit: to a Celery worker when there is a broker (``IMPORT_RUNNER = "celery"``), or, in the embedded
mode without one (``"process"``), to a runner process of its own (``manage.py import_run <job>``), started by the
web process and recorded on the job row (``task_id = "process:<pid>"``; the mechanism, shared with estimation
runs, is ``conatt_portal.runners``). Either way the request answers at once
and the page polls the job's progress; a 200,000-row file no longer holds a web worker past its timeout.

A runner that dies (killed, out of memory, its machine restarted) leaves its job "previewing" or "importing": its
transaction rolls back, so nothing is written, but the job would never end and its file, which holds names and
document numbers, would stay on disk. The heartbeat (``records.imports.heartbeat``) says when each job was last
alive; ``import_jobs_sweep`` marks every running job silent for ``IMPORT_HEARTBEAT_MINUTES`` failed and deletes
its file. It runs from the beat schedule, and in the embedded mode (no beat) whenever a job page is seen or a new
import starts.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from conatt_portal.runners import heartbeat_limit, process_mode, start_runner_process

from . import services, tasks
from .heartbeat import heartbeat_read, heartbeat_write
from .models import ImportJob

logger = logging.getLogger(__name__)

_STEPS = {
    "preview": (services.import_preview, tasks.import_preview_task),
    "confirm": (services.import_confirm, tasks.import_confirm_task),
}
_RUNNING = (ImportJob.Status.PREVIEWING, ImportJob.Status.IMPORTING)


def import_step_run(*, job: ImportJob, step: str) -> bool:
    """Run ``step`` ("preview" or "confirm") of ``job`` where its size says. True if it ran within the request
    (its outcome is on the job now); False if it was handed to a worker or a runner process on commit."""
    service, task = _STEPS[step]
    if job.size <= settings.IMPORT_SYNC_MAX_BYTES:
        _run_now(service, job)
        return True
    # The job is alive from now on, even while it waits for a worker.
    heartbeat_write(job, phase="waiting", done=0, total=job.rows_total)
    if not process_mode():
        transaction.on_commit(lambda: _queue(task, job.pk))
    else:
        import_jobs_sweep()
        transaction.on_commit(lambda: _start_process(job.pk))
    return False


def import_job_run(*, job_id: int) -> None:
    """What a runner process does (``manage.py import_run``): the step its job is waiting for. Idempotent, as
    the services are: a job that already ran is left alone."""
    status = ImportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    if status == ImportJob.Status.PREVIEWING:
        services.import_preview(job_id=job_id)
    elif status == ImportJob.Status.IMPORTING:
        services.import_confirm(job_id=job_id)


def import_jobs_sweep(*, now: datetime.datetime | None = None) -> int:
    """Mark failed every running job whose heartbeat (or, without one, last change of its row) is older than
    ``IMPORT_HEARTBEAT_MINUTES``, and delete its file: its runner is gone and its transaction rolled back, so
    nothing was written. Returns how many jobs were closed. Idempotent; cheap when nothing is running."""
    limit = heartbeat_limit(now)
    closed = 0
    for job in ImportJob.objects.filter(status__in=_RUNNING).select_related("institution"):
        _progress, beat = heartbeat_read(job)
        last = job.updated_at
        if beat is not None:
            last = max(last, datetime.datetime.fromtimestamp(beat, tz=datetime.UTC))
        if last >= limit:
            continue
        with translation.override(job.language):
            message = _("The import stopped before it finished; nothing was written. Upload the file again.")
        services.import_job_fail(job=job, message=message)
        logger.warning("Import job %s swept: no heartbeat since %s", job.pk, last.isoformat())
        closed += 1
    return closed


def import_jobs_sweep_embedded() -> None:
    """The sweep where no beat runs it (the embedded mode): when a job page is seen."""
    if process_mode():
        import_jobs_sweep()


def _run_now(service, job: ImportJob) -> None:
    """Run a small job's step within the request. A fault of the portal (the database connection lost, say) is
    already recorded on the job as failed, with a message in the officer's language that nothing was written;
    the job's page or answer shows it, and the error goes to the log instead of a 500 page."""
    try:
        service(job_id=job.pk)
    except Exception:
        logger.exception("Import job %s stopped by a fault of the portal", job.pk)


def _queue(task, job_id: int) -> None:
    result = task.delay(job_id)
    ImportJob.objects.filter(pk=job_id).update(task_id=getattr(result, "id", "") or "")


def _start_process(job_id: int) -> None:
    task_id = start_runner_process("import_run", job_id)
    ImportJob.objects.filter(pk=job_id).update(task_id=task_id)
