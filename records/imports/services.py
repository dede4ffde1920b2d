"""Bulk import of applications: a dry run that classifies every row (new, updated, unchanged) and reports every
error, then a write of all rows in one transaction or none.

Rules enforced here:
- the institution comes from the import job (the officer's own), never from the file; a row naming another
  institution is an error;
- the key of an application is its institution plus the institution's own case reference, so importing the same
  file twice creates nothing new, and a re-import with changes updates those applications and writes history
  rows (django-simple-history tables) that record the change;
- an application the ERI has in hand (submitted, under review, decided) is not changed by an import: changing it
  takes the workflow, and a decision takes a new resolution;
- the person key is the same HMAC of the identity document as in single-application entry, so a person referred
  again (or by another institution) is recognised;
- writes are set-based: keys reserved up front, rows copied in chunks, reference data read once.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from accounts.models import Institution
from indicators.recompute.outbox import recompute_mark_changed
from records.models import Status
from records.scopes import commit_hooks_unscoped

from . import heartbeat

# The comparison with what is stored (compare.py) and the write (write.py) are steps of this module's import;
# their public names are re-exported so that callers keep one entry point, records.imports.services.
from .compare import (
    APP_FIELDS,
    COMPARED,
    COUNTRY_SETS,
    EDITABLE,
    IDENTITY_FIELDS,
    M2M_FIELDS,
    _complete,
    _differs,
    _load_current,
    _load_rows,
    import_affected_years,
    target_column,
    through_model,
)
from .decisions import decision_problems, needs_decision
from .models import ImportJob
from .parsing import ImportFileError, ParsedFile, check_upload, open_parsed
from .validation import ErrorLog, Lookups, Record, RowValidator
from .write import HISTORY_REASON, WITH_ERI, _Writer

__all__ = [
    "APP_FIELDS",
    "CHUNK",
    "COMPARED",
    "COUNTRY_SETS",
    "EDITABLE",
    "HISTORY_REASON",
    "IDENTITY_FIELDS",
    "M2M_FIELDS",
    "PHASES",
    "UNCOUNTED_PHASES",
    "WITH_ERI",
    "ImportCancelled",
    "ImportOutcome",
    "Progress",
    "import_affected_years",
    "import_cancel",
    "import_confirm",
    "import_job_create",
    "import_job_fail",
    "import_job_start",
    "import_jobs_expire",
    "import_preview",
    "import_rows",
    "phase_label",
    "progress_key",
    "progress_read",
    "target_column",
    "through_model",
]

CHUNK = 2000


class ImportCancelled(Exception):
    """The officer cancelled: the transaction is rolled back and nothing is written."""


@dataclass
class ImportOutcome:
    total: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: ErrorLog = field(default_factory=ErrorLog)
    years: set[int] = field(default_factory=set)
    application_ids: list[int] = field(default_factory=list)  # the new and updated applications, once written
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


Progress = Callable[[str, int, int], None]


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


def _never() -> bool:
    return False


def import_rows(
    *,
    parsed: ParsedFile,
    institution: Institution,
    user,
    write: bool,
    progress: Progress = _no_progress,
    is_cancelled: Callable[[], bool] = _never,
    lookups: Lookups | None = None,
) -> ImportOutcome:
    """Validate every row of ``parsed`` for ``institution``; classify each as new, updated or unchanged; and, when
    ``write`` and no row has an error, write them all in one transaction (or none, on any error or a cancel)."""
    outcome = ImportOutcome()
    lookups = lookups or Lookups.load()
    validator = RowValidator(parsed=parsed, institution=institution, lookups=lookups)
    estimated = parsed.estimated_rows
    records: list[Record] = []
    for record in validator:
        records.append(record)
        if len(records) % CHUNK == 0:
            progress("validating", len(records), estimated)
            if is_cancelled():
                raise ImportCancelled
    outcome.total = validator.rows_seen
    outcome.errors = validator.errors
    if outcome.total == 0 and not outcome.errors:
        raise ImportFileError(_("The file has a header row but no data rows."))
    if outcome.errors:
        return outcome
    if not write:
        _classify(records, validator, institution, user, outcome, progress, is_cancelled, write=False)
        return outcome
    try:
        with transaction.atomic():
            # One import per institution at a time: a second one waits here instead of racing on references.
            Institution.objects.select_for_update().filter(pk=institution.pk).first()
            _fast_commit()
            _classify(records, validator, institution, user, outcome, progress, is_cancelled, write=True)
            if outcome.errors:
                raise _RollBack
            # Every row is written: what remains is the commit (on PostgreSQL it runs the deferred constraint
            # checks, seconds for a large file) and then the recompute, each named on the job's page. The
            # recompute's own on-commit callback comes after this one (callbacks run in the order registered),
            # and robust: a lost progress write after the commit must not turn a written import into a failure.
            progress("saving", outcome.total, outcome.total)
            if outcome.years:
                transaction.on_commit(lambda: progress("recomputing", outcome.total, outcome.total), robust=True)
            # In the same transaction: the indicators learn of the change exactly when it is committed.
            with commit_hooks_unscoped():  # the recompute after the commit reads every record (records/scopes.py)
                recompute_mark_changed(application_ids=outcome.application_ids, years=outcome.years)
            outcome.written = True
    except _RollBack:
        outcome.written = False
    except IntegrityError:
        # A concurrent single-application entry took a reference between validation and write.
        outcome.errors.add(0, "", _("Another user changed these applications during the import; try again."))
        outcome.written = False
    return outcome


class _RollBack(Exception):
    pass


def _fast_commit() -> None:
    """PostgreSQL: do not wait for this transaction's WAL flush at commit. Durability is kept where it matters:
    the job row is then marked done in an ordinary (synchronous) commit, and flushing that commit's WAL flushes
    everything before it, so a job never reads "done" for an import a crash lost."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _classify(records, validator, institution, user, outcome, progress, is_cancelled, *, write: bool) -> None:
    absent = tuple(name for name in COMPARED if name not in validator.present)
    total = len(records)
    done = 0
    writer = _Writer(institution=institution, user=user) if write else None
    for start in range(0, total, CHUNK):
        chunk = records[start : start + CHUNK]
        current = _load_current(institution.pk, [r.case_reference for r in chunk])
        new, changed = [], []
        for record in chunk:
            existing = current.get(record.case_reference)
            _complete(record, absent, existing)
            if existing is None:
                new.append(record)
            elif not _differs(record, existing):
                outcome.unchanged += 1
            elif existing.get("status") not in EDITABLE:
                outcome.errors.add(
                    record.line,
                    "",
                    _(
                        "the application '%(reference)s' is already with the ERI (%(status)s) and an import cannot "
                        "change it"
                    )
                    % {"reference": record.case_reference, "status": Status(existing.get("status")).label},
                )
            else:
                changed.append((record, existing))
        decided = [r for r in new if needs_decision(r, None)] + [r for r, c in changed if needs_decision(r, c.record)]
        for line, column, message in decision_problems(decided, user=user, header=validator.header):
            outcome.errors.add(line, column, message)
        outcome.new += len(new)
        outcome.updated += len(changed)
        outcome.years |= import_affected_years(new=new, changed=changed)
        if writer is not None and not outcome.errors:
            _load_rows(changed)
            writer.create(new)
            writer.update(changed)
        done += len(chunk)
        progress("writing" if write else "comparing", done, total)
        if writer is not None:
            outcome.application_ids = writer.application_ids
        if is_cancelled():
            raise ImportCancelled


# --- Import jobs -------------------------------------------------------------------------------------------------


# The step a running job is at, as its page and the API name it (progress "phase"). "saving" and "recomputing"
# have no rows to count: the page shows them as a moving, full bar.
PHASES = {
    "waiting": pgettext_lazy("import step", "Waiting to start"),
    "validating": pgettext_lazy("import step", "Validating the rows"),
    "comparing": pgettext_lazy("import step", "Comparing with the stored applications"),
    "writing": pgettext_lazy("import step", "Writing the applications"),
    "saving": pgettext_lazy("import step", "Saving (the database checks and commits the write)"),
    "recomputing": pgettext_lazy("import step", "Recomputing the indicators"),
}
UNCOUNTED_PHASES = frozenset({"waiting", "saving", "recomputing"})


def phase_label(phase: str) -> str:
    """The step's name in the current language; a phase that is a job status (a finished job) by that status."""
    if phase in PHASES:
        return str(PHASES[phase])
    try:
        return str(ImportJob.Status(phase).label)
    except ValueError:
        return phase


def progress_key(job) -> str:
    # Keyed by the job's random token, not its id: ids are reused after a database restore.
    return f"records:import-progress:{job.token}"


def progress_read(*, job) -> dict:
    """Rows done of total for the progress bar: from the cache while a task runs (its transaction hides the
    job row's updates), else from the job row."""
    cached = cache.get(progress_key(job)) if job.is_running else None
    if cached:
        return cached
    # A runner process of the embedded mode has a cache of its own: its heartbeat file carries the progress.
    beat = heartbeat.heartbeat_read(job)[0] if job.is_running else None
    if beat:
        return beat
    return {"phase": job.status, "done": job.rows_done, "total": job.rows_total}


def _job_progress(job) -> Progress:
    def report(phase: str, done: int, total: int) -> None:
        cache.set(progress_key(job), {"phase": phase, "done": done, "total": max(total, done)}, 3600)
        heartbeat.heartbeat_write(job, phase=phase, done=done, total=total)
        heartbeat.pause_for_fault_tests(phase)

    return report


def _job_cancelled(job) -> Callable[[], bool]:
    def check() -> bool:
        # A committed cancel from the officer's request is visible here (READ COMMITTED), also mid-transaction.
        return (
            bool(cache.get(progress_key(job) + ":cancel"))
            or ImportJob.objects.filter(pk=job.pk, cancelled=True).exists()
        )

    return check


def import_job_create(*, user, institution: Institution, upload) -> ImportJob:
    """Store an uploaded file for ``institution`` after the checks that need no parsing (name, size, content
    type); raises ImportFileError. The institution is the caller's choice among the officer's own."""
    kind = check_upload(upload.name, upload.size)
    job = ImportJob(
        token=secrets.token_hex(16),
        user=user,
        institution=institution,
        original_name=upload.name[-200:],
        file_kind=kind,
        size=upload.size,
        language=translation.get_language() or "es",
    )
    job.file.save(f"upload.{kind}", upload, save=False)
    job.save()
    return job


def _finish(job, outcome: ImportOutcome | None, status: str, *, errors: list[dict] | None = None) -> None:
    job.status = status
    if outcome is not None:
        job.rows_total = outcome.total
        job.rows_done = outcome.total if status in (ImportJob.Status.PREVIEWED, ImportJob.Status.DONE) else 0
        job.count_new, job.count_updated, job.count_unchanged = outcome.new, outcome.updated, outcome.unchanged
        job.error_count = outcome.errors.total
        job.errors = [e.as_dict() | {"text": str(e)} for e in outcome.errors.items]
        job.affected_years = sorted(outcome.years) if outcome.written else []
    if errors is not None:
        job.errors = errors
        job.error_count = len(errors)
    job.finished_at = timezone.now()
    heartbeat.heartbeat_delete(job)  # the run is over, whatever its outcome
    if status != ImportJob.Status.PREVIEWED and job.file:
        # The uploaded file holds identity data: keep it only while it waits for confirmation.
        job.file.delete(save=False)
    job.save()
    cache.delete(progress_key(job))


def import_job_fail(*, job, message: str) -> None:
    """Close a job whose run cannot finish (its runner died: records.imports.runner.import_jobs_sweep) as failed,
    saying ``message``, and delete its file."""
    _finish(job, None, ImportJob.Status.FAILED, errors=[{"row": 0, "column": "", "message": message, "text": message}])


def _run_job(job, *, write: bool) -> ImportOutcome | None:
    with translation.override(job.language):
        try:
            parsed = open_parsed(job.file.path, name=job.original_name)
            outcome = import_rows(
                parsed=parsed,
                institution=job.institution,
                user=job.user,
                write=write,
                progress=_job_progress(job),
                is_cancelled=_job_cancelled(job),
            )
        except ImportFileError as problem:
            _finish(
                job,
                None,
                ImportJob.Status.INVALID,
                errors=[{"row": 0, "column": "", "message": problem.message, "text": problem.message}],
            )
            return None
        except ImportCancelled:
            _finish(job, None, ImportJob.Status.CANCELLED)
            return None
        except Exception:
            # A fault of the portal, not of the file: the transaction has rolled back; say so instead of leaving
            # the job "running" for ever, then let the error be logged (by the worker or the request handler).
            message = _("The import stopped because of an error in the portal; nothing was written. Try again later.")
            _finish(
                job,
                None,
                ImportJob.Status.FAILED,
                errors=[{"row": 0, "column": "", "message": message, "text": message}],
            )
            raise
        if write:
            _finish(job, outcome, ImportJob.Status.DONE if outcome.written else ImportJob.Status.FAILED)
        else:
            _finish(job, outcome, ImportJob.Status.PREVIEWED if outcome.ok else ImportJob.Status.INVALID)
        return outcome


def import_preview(*, job_id: int) -> ImportOutcome | None:
    """The dry run: validate and classify every row, write nothing but the job's counts and errors."""
    job = ImportJob.objects.select_related("institution", "user").get(pk=job_id)
    if job.status != ImportJob.Status.PREVIEWING:
        return None  # already ran (a redelivered task)
    if job.cancelled:
        _finish(job, None, ImportJob.Status.CANCELLED)
        return None
    return _run_job(job, write=False)


def import_confirm(*, job_id: int) -> ImportOutcome | None:
    """Write every row in one transaction or none. Validation runs again on the stored file, since records may
    have changed since the preview. Idempotent: a job that is not waiting to import does nothing."""
    waiting = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.IMPORTING, finished_at=None)
    job = waiting.select_related("institution", "user").first()
    if job is None:
        return None
    if job.cancelled:  # cancelled while queued
        _finish(job, None, ImportJob.Status.CANCELLED)
        return None
    return _run_job(job, write=True)


def import_cancel(*, job) -> None:
    """Stop a preview or an import; a running write rolls back, so nothing is written."""
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED, ImportJob.Status.CANCELLED):
        return
    ImportJob.objects.filter(pk=job.pk).update(cancelled=True)
    cache.set(progress_key(job) + ":cancel", True, 3600)
    if not job.is_running:
        job.refresh_from_db()
        _finish(job, None, ImportJob.Status.CANCELLED)


def import_job_start(*, job) -> bool:
    """Move a previewed job to importing (once: a double click starts one import)."""
    return bool(
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWED, cancelled=False).update(
            status=ImportJob.Status.IMPORTING, finished_at=None, rows_done=0
        )
    )


def import_jobs_expire(*, older_than: datetime.timedelta = datetime.timedelta(days=1)) -> int:
    """Retention of uploaded files (they hold identity data): a job left waiting for confirmation is cancelled,
    and one left "running" (its worker lost) is marked failed, after ``older_than``; either way its file is
    deleted. Returns how many jobs were closed. Idempotent; meant for a daily Celery beat entry."""
    limit = timezone.now() - older_than
    closed = 0
    stale = ImportJob.objects.filter(
        updated_at__lt=limit,
        status__in=[ImportJob.Status.PREVIEWED, ImportJob.Status.PREVIEWING, ImportJob.Status.IMPORTING],
    )
    for job in stale.select_related("institution"):
        if job.status == ImportJob.Status.PREVIEWED:
            _finish(job, None, ImportJob.Status.CANCELLED)
        else:
            with translation.override(job.language):
                message = _("The import did not finish; nothing was written. Upload the file again.")
            _finish(
                job,
                None,
                ImportJob.Status.FAILED,
                errors=[{"row": 0, "column": "", "message": message, "text": message}],
            )
        closed += 1
    return closed
