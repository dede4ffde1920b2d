"""The job runner of the recompute: the lock, the run rows, the choice of the kind of build, and the swap of
the indicator version.

Domain rules enforced here:

* Indicators come from committed records only, and the database does the aggregation (``INSERT ... SELECT``
  with ``GROUPING SETS`` on PostgreSQL, one ``GROUP BY`` per cell set on SQLite); Python never loops over
  records.
* A full recompute writes a new ``IndicatorVersion`` and makes it current in the transaction that wrote it;
  an incremental recompute replaces the cells of the changed years of the current version in one
  transaction. Readers see the previous state until the commit, never half of a recompute.
* Two recomputes never interleave: a PostgreSQL advisory lock (a locked ``RecomputeLock`` row elsewhere; on
  SQLite every write transaction holds the database's write lock) makes the second wait or skip.
* Every run leaves a ``RecomputeRun`` row, failed ones with their error; the old version stays current.
"""

from __future__ import annotations

import logging
import time
import traceback
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from records.models import Application, Status

from ..models import (
    ApplicationFact,
    IndicatorCell,
    IndicatorVersion,
    PendingRecompute,
    RecomputeLock,
    RecomputeRun,
)
from . import cost, seam
from .builder import Builder
from .parallel import _in_parallel, _tune_build_transaction
from .sql import Source

logger = logging.getLogger(__name__)

# A PostgreSQL advisory lock key of its own ("CONATT" in ASCII, then 1).
ADVISORY_LOCK_KEY = 0x434F4E41_5401
LOCK_NAME = "recompute"
# A "running" row older than this when a recompute takes the lock belonged to a worker that was stopped.
STALE_RUN = timedelta(hours=2)


class RecomputeBusy(Exception):
    """Another recompute holds the lock and the caller asked not to wait."""


def recompute_pending(*, wait: bool = True, trigger: str = "") -> RecomputeRun | None:
    """Recompute what waits in the outbox (the changed applications, then the marked years), or build
    everything when no version exists yet. Returns the run, or None when nothing was pending."""
    if not PendingRecompute.objects.exists():
        return None
    if not IndicatorVersion.objects.filter(is_current=True).exists():
        return recompute_full(wait=wait, trigger=trigger)
    return _run(RecomputeRun.Kind.INCREMENTAL, wait=wait, trigger=trigger)


def recompute_full(*, wait: bool = True, trigger: str = "") -> RecomputeRun:
    """Rebuild the analytics tables and a new indicator version from all committed records, then make it
    current; the outbox is emptied of what the rebuild covered. Used nightly, from the shell and the admin."""
    return _run(RecomputeRun.Kind.FULL, wait=wait, trigger=trigger)


def _run(kind: str, *, wait: bool, trigger: str) -> RecomputeRun:
    started = timezone.now()
    run = RecomputeRun.objects.create(kind=kind, trigger=trigger[:40], started_at=started)
    clock = time.perf_counter()
    try:
        with _recompute_lock(wait=wait):
            rows, years, version = _build(kind, started=started, run=run)
    except RecomputeBusy:
        _finish(run, clock, outcome=RecomputeRun.Outcome.SKIPPED)
        return run
    except Exception as error:
        _finish(run, clock, outcome=RecomputeRun.Outcome.FAILED, error="".join(traceback.format_exception(error)))
        raise
    _finish(run, clock, outcome=RecomputeRun.Outcome.SUCCESS, rows=rows, years=years, version=version)
    _drop_old_versions()
    return run


def _finish(run: RecomputeRun, clock: float, *, outcome: str, error: str = "", rows=0, years=None, version=None):
    run.finished_at = timezone.now()
    run.duration_seconds = round(time.perf_counter() - clock, 3)
    run.outcome = outcome
    run.error = error[-10000:]
    run.rows_written = rows
    if years is not None:
        run.years = years
    run.version = version
    run.save()
    logger.info("Indicator recompute %s %s: %s rows in %.2fs", run.kind, outcome, rows, run.duration_seconds)


class _recompute_lock:
    """Keeps two recomputes apart. PostgreSQL: a session advisory lock taken before the build transaction
    starts, so the build's snapshot is taken after the previous recompute committed. Other databases: the
    ``RecomputeLock`` row, locked inside the build transaction (see ``_build``)."""

    def __init__(self, *, wait: bool):
        self.wait = wait
        self.postgres = connection.vendor == "postgresql"

    def __enter__(self):
        if self.postgres:
            with connection.cursor() as cursor:
                if self.wait:
                    cursor.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
                else:
                    cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
                    if not cursor.fetchone()[0]:
                        raise RecomputeBusy
        else:
            RecomputeLock.objects.get_or_create(name=LOCK_NAME)
        return self

    def __exit__(self, *exc):
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
        return False


def _build(kind: str, *, started, run: RecomputeRun) -> tuple[int, list[int], IndicatorVersion]:
    outermost = not connection.in_atomic_block
    # A full rebuild on PostgreSQL outside any transaction writes its cells over several connections: the facts
    # (and the new version, not current) are committed first, the cells by each connection, and the version
    # becomes current in a last short transaction. Readers see the old version until then, as with one
    # transaction; a build that fails half-way leaves a version newer than the current one, and that makes the
    # next recompute full (``_facts_ahead``). Inside a caller's transaction other connections could not see its
    # records, so the build is one transaction there, as on SQLite.
    connections = int(settings.INDICATORS_BUILD_CONNECTIONS)
    in_parallel = outermost and connection.vendor == "postgresql" and connections > 1
    with transaction.atomic():
        _tune_build_transaction(snapshot=outermost)
        if connection.vendor != "postgresql":
            lock = RecomputeLock.objects.select_for_update(nowait=False)
            list(lock.filter(name=LOCK_NAME))
        RecomputeRun.objects.filter(outcome=RecomputeRun.Outcome.RUNNING, started_at__lt=started - STALE_RUN).update(
            outcome=RecomputeRun.Outcome.ABANDONED
        )
        marks = list(PendingRecompute.objects.values_list("id", "year", "application_id"))
        builder = Builder(today=timezone.localdate())
        current = IndicatorVersion.objects.filter(is_current=True).first()
        marked_years = sorted({year for _, year, _ in marks if year is not None})
        marked_apps = sorted({app for _, _, app in marks if app is not None})
        if kind == RecomputeRun.Kind.INCREMENTAL and _full_instead(
            builder, current, marked_apps, marked_years, connections=connections if in_parallel else 1
        ):
            kind = RecomputeRun.Kind.FULL
            RecomputeRun.objects.filter(pk=run.pk).update(kind=kind)
            run.kind = kind
        if kind == RecomputeRun.Kind.INCREMENTAL and current is not None:
            if not marks:
                return 0, [], current
            rows = 0
            if marked_apps:
                rows += builder.delta(version=current, application_ids=marked_apps)
            if marked_years:
                rows += builder.incremental(version=current, years=marked_years)
            years = sorted(set(marked_years) | set(builder.years))
            current.data_as_of = started
            current.save(update_fields=["data_as_of"])
            _done(marks)
            return rows, years, current
        version = IndicatorVersion.objects.create(data_as_of=started)
        if not in_parallel:
            rows = builder.full(version=version)
            _make_current(version, marks)
            return rows, builder.years, version
        builder.clear_facts()
    with transaction.atomic():
        # The facts, by several connections reading the records as of one moment (this transaction's snapshot).
        _tune_build_transaction(snapshot=True)
        snapshot = builder.scalar("SELECT pg_export_snapshot()")
        rows = _in_parallel(builder.fact_jobs(parts=connections), connections, snapshot=snapshot)
    with transaction.atomic():
        _tune_build_transaction()
        rows += builder.finish_facts()
    rows += _in_parallel(
        builder.sum_jobs(version.pk, Source(builder.fact, builder.value)),
        connections,
        first=builder.dups_job(version.pk),
    )
    with transaction.atomic():
        _make_current(version, marks)
    builder.execute("DROP TABLE IF EXISTS ind_dups")
    return rows, builder.years, version


def _full_instead(builder: Builder, current, marked_apps: list[int], marked_years: list[int], *, connections) -> bool:
    """Whether an incremental recompute of these marks must, or had better, be a full rebuild."""
    if _facts_lost() or _facts_ahead(current):
        # The differences need the facts the current version was built from: PostgreSQL empties the UNLOGGED
        # fact tables after a crash, and a full rebuild that failed after committing its facts replaced them.
        return True
    if current is None or not (marked_apps or marked_years):
        return False
    # Both give the same cells; a full rebuild is the faster for some marks (most years of the facts).
    guess = cost.estimate(builder, application_ids=marked_apps, years=marked_years, connections=connections)
    if guess.full_is_cheaper:
        logger.info("Indicator recompute: full (est. %.1f s) over incremental (%.1f s)", guess.full, guess.incremental)
    return guess.full_is_cheaper


def _make_current(version: IndicatorVersion, marks) -> None:
    IndicatorVersion.objects.filter(is_current=True).update(is_current=False)
    IndicatorVersion.objects.filter(pk=version.pk).update(is_current=True)
    version.is_current = True
    _done(marks)


def _done(marks) -> None:
    """Empty the outbox of the marks this build covered, then the test seam before the commit."""
    PendingRecompute.objects.filter(id__in=[pk for pk, _, _ in marks]).delete()
    seam.before_commit()


def _facts_ahead(current: IndicatorVersion | None) -> bool:
    """A full rebuild committed its facts and then failed: the facts are newer than the current version's."""
    return current is not None and IndicatorVersion.objects.filter(pk__gt=current.pk).exists()


def _facts_lost() -> bool:
    return (
        not ApplicationFact.objects.exists()
        and Application.objects.exclude(status=Status.DRAFT).exists()
        and IndicatorCell.objects.filter(version__is_current=True).exists()
    )


def _drop_old_versions() -> None:
    """Delete the cells of versions that are no longer current (after the swap, outside its transaction)."""
    current = IndicatorVersion.objects.filter(is_current=True).values_list("pk", flat=True).first()
    if current is None:
        return
    # Only older ones: a newer version is being built by the recompute that now holds the lock.
    old = list(IndicatorVersion.objects.filter(pk__lt=current).values_list("pk", flat=True))
    if not old:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(old))
        cursor.execute(f"DELETE FROM {IndicatorCell._meta.db_table} WHERE version_id IN ({marks})", old)  # noqa: S608
        RecomputeRun.objects.filter(version_id__in=old).update(version=None)
        IndicatorVersion.objects.filter(pk__in=old).delete()
