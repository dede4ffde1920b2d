# ruff: noqa: S608
# The SQL here is assembled from table names of the models, dimension names of indicators.dimensions, codes of
# the code lists (quoted by _q) and integers; every value that comes from a request or a record is a parameter.
"""Writes of the indicator engine: the recompute of the analytics and indicator tables, and the outbox that
records' write transactions fill.

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

import contextlib
import logging
import os
import re
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.models import Institution
from records import deadlines
from records.models import (
    Application,
    ApplicationExploitationCountry,
    ApplicationNationality,
    Canton,
    Code,
    CodeList,
    District,
    Person,
    Province,
    Status,
)

from . import dimensions as dims
from .disclosure import KEY_MODULUS
from .models import (
    ApplicationFact,
    ApplicationFactValue,
    BusinessDay,
    IndicatorCell,
    IndicatorVersion,
    MaskBit,
    PendingRecompute,
    PersonKey,
    RecomputeLock,
    RecomputeRun,
    RecordKey,
)

logger = logging.getLogger(__name__)

DEBOUNCE_KEY = "indicators:recompute-scheduled"
DEBOUNCE_SECONDS = getattr(settings, "INDICATORS_DEBOUNCE_SECONDS", 5)
# A PostgreSQL advisory lock key of its own ("CONATT" in ASCII, then 1).
ADVISORY_LOCK_KEY = 0x434F4E41_5401
LOCK_NAME = "recompute"
# A "running" row older than this when a recompute takes the lock belonged to a worker that was stopped.
STALE_RUN = timedelta(hours=2)
ADULT_AGE = 18
WORK_MEM = getattr(settings, "INDICATORS_WORK_MEM", "128MB")

DECIDED = (Status.ACCREDITED, Status.NOT_ACCREDITED)
OPEN = (Status.SUBMITTED, Status.UNDER_REVIEW, Status.INFO_REQUESTED)


class RecomputeBusy(Exception):
    """Another recompute holds the lock and the caller asked not to wait."""


# --------------------------------------------------------------------------------------------------------------
# The outbox


def recompute_mark_dirty(*, years: Iterable[int] = (), application_ids: Iterable[int] = ()) -> None:
    """Remember that indicators are stale and schedule a recompute after the commit.

    Call it inside the write transaction of any change to an application or its decision. Either (or both):

    * ``years``: every year the change may affect, i.e. the year of receipt and the year of decision, before
      and after the change. The recompute rebuilds the cells of those years ("pending at year end" is derived
      from the years of receipt and decision, so no year in between needs to be named).
    * ``application_ids``: the changed applications. The recompute then applies just their difference (their
      old cells out, their new ones in), which takes well under a second even with a million applications.

    The marks are written to the outbox (``PendingRecompute``) in the caller's transaction, so they are kept
    exactly when the change is. After the commit one task is queued per burst of changes (a cache key set
    with NX and a few seconds' expiry); if the broker is unreachable the change still succeeds, the marks stay
    in the outbox, and the periodic sweep (or the next successful enqueue) recomputes them. With
    ``CELERY_TASK_ALWAYS_EAGER`` (the embedded default) the recompute runs in-process right after the commit.
    """
    now = timezone.now()
    marks = [PendingRecompute(year=int(y), marked_at=now) for y in sorted({y for y in years if y is not None})]
    marks += [PendingRecompute(application_id=int(pk), marked_at=now) for pk in sorted(set(application_ids))]
    if not marks:
        return
    PendingRecompute.objects.bulk_create(marks)
    transaction.on_commit(_enqueue_pending)


def _enqueue_pending() -> None:
    """Queue the recompute of the outbox, once per debounce window; never raises (the outbox keeps the years)."""
    from . import tasks

    if settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            recompute_pending(trigger="on-commit")
        except Exception:
            logger.exception("In-process indicator recompute failed; the years stay pending")
        return
    try:
        if not cache.add(DEBOUNCE_KEY, "1", timeout=DEBOUNCE_SECONDS):
            return  # a task is already queued for this burst; it reads the outbox when it runs
    except Exception:
        logger.warning("Indicator debounce key unavailable; queueing without debounce", exc_info=True)
    try:
        tasks.recompute_pending.apply_async(countdown=DEBOUNCE_SECONDS, retry=False)
    except Exception:
        logger.warning("Could not queue the indicator recompute; the periodic sweep will run it", exc_info=True)
        with contextlib.suppress(Exception):  # the broker and the cache are usually down together
            cache.delete(DEBOUNCE_KEY)


def pending_years() -> list[int]:
    """The years waiting in the outbox, sorted."""
    return sorted(set(PendingRecompute.objects.filter(year__isnull=False).values_list("year", flat=True)))


def pending_marks() -> int:
    """How many marks (years or applications) wait in the outbox."""
    return PendingRecompute.objects.count()


# --------------------------------------------------------------------------------------------------------------
# Entry points


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


def _pause_for_fault_tests() -> None:
    """Off unless settings.TEST_RECOMPUTE_PAUSE_FILE names a file that exists (never in production, see
    settings). Fault tests run the recompute in a separate worker process, where a monkeypatched
    ``_before_commit`` cannot reach: at the same point (cells written, not committed) this writes
    ``<file>.reached`` and waits while ``<file>`` exists, so a test can kill the worker or Redis mid-build."""
    hold = getattr(settings, "TEST_RECOMPUTE_PAUSE_FILE", "")
    if not hold or not os.path.exists(hold):
        return
    with open(f"{hold}.reached", "w") as marker:
        marker.write(str(os.getpid()))
    deadline = time.monotonic() + 120
    while os.path.exists(hold) and time.monotonic() < deadline:
        time.sleep(0.05)


# Test hook: called inside the build transaction after the new cells are written and before the commit. Tests in
# this process replace it (monkeypatch); a worker process started by a fault test gets the file-driven pause.
_before_commit: Callable[[], None] | None = _pause_for_fault_tests


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


def _tune_build_transaction(*, snapshot: bool = False) -> None:
    """PostgreSQL settings of a build transaction (SET LOCAL: they end with it). ``snapshot``: read every table
    as of one moment (only possible as the first statement of the outermost transaction)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if snapshot:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        # Room for the hash aggregates of the bases, so they do not spill to disk (this transaction only).
        cursor.execute("SELECT set_config('work_mem', %s, true)", [WORK_MEM])
        # JIT compiling these long one-off statements costs seconds and gains less than it costs.
        cursor.execute("SELECT set_config('jit', 'off', true)")


def _build(kind: str, *, started, run: RecomputeRun) -> tuple[int, list[int], IndicatorVersion]:
    outermost = not connection.in_atomic_block
    # A full rebuild on PostgreSQL outside any transaction writes its cells over several connections: the facts
    # (and the new version, not current) are committed first, the cells by each connection, and the version
    # becomes current in a last short transaction. Readers see the old version until then, as with one
    # transaction; a build that fails half-way leaves a version newer than the current one, and that makes the
    # next recompute full (``_facts_ahead``). Inside a caller's transaction other connections could not see its
    # records, so the build is one transaction there, as on SQLite.
    connections = int(getattr(settings, "INDICATORS_BUILD_CONNECTIONS", 1))
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
        builder = _Builder(today=timezone.localdate())
        current = IndicatorVersion.objects.filter(is_current=True).first()
        if kind == RecomputeRun.Kind.INCREMENTAL and (_facts_lost() or _facts_ahead(current)):
            # The differences need the facts the current version was built from: PostgreSQL empties the UNLOGGED
            # fact tables after a crash, and a full rebuild that failed after committing its facts replaced them.
            kind = RecomputeRun.Kind.FULL
            RecomputeRun.objects.filter(pk=run.pk).update(kind=kind)
            run.kind = kind
        if kind == RecomputeRun.Kind.INCREMENTAL and current is not None:
            marked_years = sorted({year for _, year, _ in marks if year is not None})
            marked_apps = sorted({app for _, _, app in marks if app is not None})
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
        builder.sum_jobs(version.pk, _Source(builder.fact, builder.value)),
        connections,
        first=builder.dups_job(version.pk),
    )
    with transaction.atomic():
        _make_current(version, marks)
    builder.execute("DROP TABLE IF EXISTS ind_dups")
    return rows, builder.years, version


def _in_parallel(jobs, connections: int, *, first: Callable[[], int] | None = None, snapshot: str = "") -> int:
    """Run ``jobs`` ((cost, callable) pairs, largest first) over ``connections`` database connections at once:
    this thread's and ``connections - 1`` threads' own, each taking the next job until none is left, and each
    writing its share in one transaction (this thread's is the caller's, if any). ``first`` runs in this thread
    before it takes jobs (a job that needs this session's temporary tables). ``snapshot``: a snapshot exported by
    the caller's open transaction, which the other connections' transactions then read as of. Returns the rows
    written."""
    queue = deque(jobs)
    if snapshot and not re.fullmatch(r"[0-9A-F-]+", snapshot):
        raise ValueError("Not a PostgreSQL snapshot identifier")

    def work(own: Callable[[], int] | None = None) -> int:
        rows = own() if own is not None else 0
        while True:
            try:
                _, job = queue.popleft()  # deque.popleft is atomic: each job runs once
            except IndexError:
                return rows
            rows += job()

    def in_thread() -> int:
        try:
            connection.ensure_connection()
        except DatabaseError:
            # No connection to spare (max_connections reached): the others do this one's share.
            logger.warning("A recompute connection could not be opened; the build goes on with fewer", exc_info=True)
            connection.close()
            return 0
        try:
            with transaction.atomic():
                if snapshot:
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                        cursor.execute(f"SET TRANSACTION SNAPSHOT {_q(snapshot)}")
                _tune_build_transaction()
                return work()
        except BaseException:
            queue.clear()  # the others stop after their current statement
            raise
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=connections - 1, thread_name_prefix="recompute") as pool:
        helpers = [pool.submit(in_thread) for _ in range(connections - 1)]
        try:
            with transaction.atomic():
                _tune_build_transaction()
                rows = work(first)
        except BaseException:
            queue.clear()
            raise
        return rows + sum(helper.result() for helper in helpers)


def _make_current(version: IndicatorVersion, marks) -> None:
    IndicatorVersion.objects.filter(is_current=True).update(is_current=False)
    IndicatorVersion.objects.filter(pk=version.pk).update(is_current=True)
    version.is_current = True
    _done(marks)


def _done(marks) -> None:
    """Empty the outbox of the marks this build covered, then (tests) the hook before the commit."""
    PendingRecompute.objects.filter(id__in=[pk for pk, _, _ in marks]).delete()
    if _before_commit is not None:
        _before_commit()


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
        cursor.execute(f"DELETE FROM {IndicatorCell._meta.db_table} WHERE version_id IN ({marks})", old)
        RecomputeRun.objects.filter(version_id__in=old).update(version=None)
        IndicatorVersion.objects.filter(pk__in=old).delete()


# --------------------------------------------------------------------------------------------------------------
# The SQL


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _m2m(field_name: str) -> str:
    return connection.ops.quote_name(Application._meta.get_field(field_name).remote_field.through._meta.db_table)


def _q(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _ints(values: Iterable[int]) -> str:
    return ", ".join(str(int(v)) for v in values) or "NULL"


def _age_group_case(column: str) -> str:
    """A CASE expression placing an age in the age_group code list by the bounds in its codes ("0-11", "60+")."""
    parts = []
    for code in Code.objects.filter(list=CodeList.AGE_GROUP).values_list("code", flat=True):
        text = code.replace(" ", "")
        try:
            if text.endswith("+"):
                parts.append((int(text[:-1]), None, code))
            elif "-" in text:
                lo, hi = text.split("-", 1)
                parts.append((int(lo), int(hi), code))
        except ValueError:
            continue  # a code without bounds (e.g. UNKNOWN) takes no age
    whens = []
    for lo, hi, code in sorted(parts):
        condition = f"{column} >= {lo}" + (f" AND {column} <= {hi}" if hi is not None else "")
        whens.append(f"WHEN {condition} THEN {_q(code)}")
    return f"CASE {' '.join(whens)} ELSE '' END" if whens else "''"


def _year(expr: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(YEAR FROM {expr}) AS INTEGER)"
    return f"CAST(strftime('%%Y', {expr}) AS INTEGER)"


# Masked dimension -> (many-to-many field of Application, or None for provinces of the districts).
_MASK_SOURCES = {
    "exploitation_form": "exploitation_forms",
    "means": "means",
    "recruitment_method": "recruitment_methods",
    "control_method": "control_methods",
    "exploitation_province": None,
}
assert set(_MASK_SOURCES) == set(dims.MASKED)  # noqa: S101


@dataclass(frozen=True)
class _Source:
    """Where a cell query reads facts from: a table expression for the facts, the bridge table, a condition."""

    facts: str
    values: str
    where: str = "1=1"


def _key_sum(expr: str) -> str:
    """SUM of record keys reduced modulo KEY_MODULUS, as an INTEGER (the cell key; see indicators.disclosure)."""
    return f"CAST(COALESCE(SUM({expr}), 0) % {KEY_MODULUS} AS INTEGER)"


# The key sums of a first aggregation level, read back as y.nk, y.pk, y.wk by the cell sets summed from it.
_KEY_SUMS = ", ".join(
    f"{_key_sum(f'r.{column}')} AS {alias}" for column, alias in (("rk", "nk"), ("pfk", "pk"), ("wk", "wk"))
)


def _grouping_mask(used: list[str], grouped) -> int:
    """What PostgreSQL's GROUPING(used...) returns on the rows of the grouping set ``grouped``: bit i (from the
    left) is 1 when used[i] is not part of it."""
    width = len(used)
    return sum(1 << (width - 1 - i) for i, d in enumerate(used) if d not in grouped)


def _pass_cost(bases) -> int:
    """A rough cost of one pass over the facts feeding ``bases`` (pairs of base and cell sets), to start the
    longest first when connections share the passes: a scan, plus a hash table per base, the dearer the more
    multi-valued dimensions repeat the rows (measured at a million applications: 1 to 12 s a pass)."""
    return 2 + sum(1 + sum(1 for d in base if d in dims.MULTI_VALUED) for base, _ in bases)


# The time key of a fact in one integer (``ApplicationFact.time_key``): received year, decided year (0 when
# undecided), outcome and overdue. Grouping by one integer instead of four columns makes each pass over a
# million facts about twice as fast; the cells get the four columns back when they are written.
_OUTCOME_NUMBER = {"A": 0, "N": 1, "O": 2, "W": 3}


def _time_key_sql(received: str, decided: str, outcome: str, overdue: str) -> str:
    number = " ".join(f"WHEN {_q(code)} THEN {n}" for code, n in _OUTCOME_NUMBER.items())
    return (
        f"({received}) * 100000 + COALESCE({decided}, 0) * 10 + (CASE {outcome} {number} END) * 2 "
        f"+ (CASE WHEN {overdue} THEN 1 ELSE 0 END)"
    )


def _time_key_columns(key: str) -> list[tuple[str, str]]:
    outcome = " ".join(f"WHEN {n} THEN {_q(code)}" for code, n in _OUTCOME_NUMBER.items())
    return [
        ("received_year", f"{key} / 100000"),
        ("decided_year", f"NULLIF(({key} % 100000) / 10, 0)"),
        ("outcome", f"CASE ({key} % 10) / 2 {outcome} END"),
        ("overdue", f"({key} % 2) = 1"),
    ]


@dataclass(frozen=True)
class _Kind:
    """What a cell query groups by besides the dimensions (columns of ``_Builder._rows_sql``), what it writes
    as constants, and the extra condition on the rows."""

    name: str  # IndicatorCell.kind
    group: tuple[str, ...]
    const: tuple[tuple[str, str], ...]  # (cell column, SQL constant)
    where: str

    def outputs(self, prefix: str) -> list[tuple[str, str]]:
        """(cell column, SQL) of everything but the counts and the dimensions."""
        columns: list[tuple[str, str]] = []
        for row_column in self.group:
            if row_column == "tk":
                columns += _time_key_columns(f"{prefix}tk")
            else:
                columns.append(({"dy": "decided_year", "days": "days"}[row_column], f"{prefix}{row_column}"))
        return columns + list(self.const)


_COUNT = _Kind(IndicatorCell.COUNT, ("tk",), (), "1=1")
_DUPS = _Kind(IndicatorCell.COUNT, ("dy",), (("outcome", "'A'"),), "f.outcome = 'A'")
_DAYS = _Kind(
    IndicatorCell.DAYS,
    ("dy", "days"),
    (),
    "f.outcome IN ('A', 'N') AND f.business_days IS NOT NULL AND f.decided_year IS NOT NULL",
)


def _recorded(alias: str) -> str:
    """A code of the fact, or "" (not recorded) when absent or when the code means "No registrado", so each table
    has one "not recorded" row and the data-quality page counts it as missing (records.Code.means_not_recorded)."""
    return f"CASE WHEN {alias}.means_not_recorded THEN '' ELSE COALESCE({alias}.code, '') END"


class _Builder:
    """Generates and runs the SQL of one recompute on the current connection."""

    def __init__(self, *, today: date):
        self.today = today
        self.postgres = connection.vendor == "postgresql"
        self.country = settings.PORTAL_COUNTRY
        self.years: list[int] = []
        self.fact = _t(ApplicationFact)
        self.value = _t(ApplicationFactValue)
        self.cell = _t(IndicatorCell)

    # ---- helpers
    def execute(self, sql: str, params=None) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return max(cursor.rowcount, 0)

    def scalar(self, sql: str, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def temp_like(self, name: str, table: str, where: str = "1=0") -> None:
        self.execute(f"DROP TABLE IF EXISTS {name}")
        self.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {table} WHERE {where}")

    # ---- reference tables of the recompute
    def calendar(self, scope: str = "1=1") -> None:
        """Make the business-day calendar cover every date of the applications in ``scope`` (a loop over days,
        not records). The days come from records.deadlines, the deadline's own calendar; the table is rewritten
        when it does not cover the range or no longer matches it (HOLIDAY_CATEGORIES changed)."""
        app = _t(Application)
        lo = self.scalar(f"SELECT MIN(received_on) FROM {app} WHERE {scope}")
        hi = self.scalar(f"SELECT MAX(decided_on) FROM {app} WHERE {scope}")
        if lo is None:
            return
        lo = date.fromisoformat(lo) if isinstance(lo, str) else lo
        hi = date.fromisoformat(hi) if isinstance(hi, str) else hi
        first = date(lo.year - 1, 1, 1)
        last = date(max(hi or self.today, self.today).year + 1, 12, 31)
        have = list(BusinessDay.objects.order_by("day").values_list("day", "ordinal"))
        if (
            have
            and have[0][0] <= first
            and have[-1][0] >= last
            and have == deadlines.business_day_ordinals(have[0][0], have[-1][0])
        ):
            return
        BusinessDay.objects.all().delete()
        rows = [BusinessDay(day=day, ordinal=ordinal) for day, ordinal in deadlines.business_day_ordinals(first, last)]
        BusinessDay.objects.bulk_create(rows, batch_size=2000)

    def record_keys(self, scope: str = "1=1") -> None:
        """Draw the secret record key of every application in ``scope`` (a condition on ``a``) and of every
        person that has none yet (disclosure: the cell key method). Drawn once: existing keys never change, so
        a cell keeps its perturbation from one recompute to the next."""
        draw = (
            f"CAST(FLOOR(RANDOM() * {KEY_MODULUS}) AS INTEGER)" if self.postgres else f"(ABS(RANDOM()) % {KEY_MODULUS})"
        )
        app, person = _t(Application), _t(Person)
        self.execute(
            f"INSERT INTO {_t(RecordKey)} (application_id, key) SELECT a.id, {draw} FROM {app} a "
            f"WHERE ({scope}) AND NOT EXISTS (SELECT 1 FROM {_t(RecordKey)} r WHERE r.application_id = a.id)"
        )
        self.execute(
            f"INSERT INTO {_t(PersonKey)} (person_id, key) SELECT p.id, {draw} FROM {person} p "
            f"WHERE NOT EXISTS (SELECT 1 FROM {_t(PersonKey)} r WHERE r.person_id = p.id)"
        )

    def mask_bits(self) -> None:
        """Give every code of the masked lists a bit, appending new codes (existing bits never move)."""
        for dimension, list_name in dims.MASKED.items():
            if list_name == "province":
                codes = list(Province.objects.order_by("code").values_list("code", flat=True))
            else:
                codes = list(
                    Code.objects.filter(list=list_name).order_by("sort_order", "code").values_list("code", flat=True)
                )
            have = dict(MaskBit.objects.filter(dimension=dimension).values_list("code", "bit"))
            used = {b.bit_length() - 1 for b in have.values()}
            new = []
            for value in codes:
                if value in have:
                    continue
                position = next(i for i in range(64) if i not in used)
                if position > 62:
                    raise ValueError(f"More than 63 codes in {dimension}: the fact masks cannot hold them.")
                used.add(position)
                new.append(MaskBit(dimension=dimension, code=value, bit=1 << position))
            MaskBit.objects.bulk_create(new)

    # ---- analytics tables
    def masks_sql(self, mask_scope: str) -> str:
        """SELECT application_id and one ``<dimension>_mask`` column per masked dimension (the sum of the bits of
        its codes; no row for an application without any), for the links whose ``t.application_id`` satisfies
        ``mask_scope``. One aggregation over the links of every masked list at once: a separate aggregate and
        join per list cost a hash table of a million applications each (measured: 18 s of a 30 s fact build)."""
        bits, code = _t(MaskBit), _t(Code)
        # PostgreSQL sums BIGINTs as NUMERIC; BIT_OR stays a BIGINT, and the bits of one application never repeat.
        total = "BIT_OR" if self.postgres else "SUM"
        branches = []
        for i, (dimension, field) in enumerate(_MASK_SOURCES.items()):
            slots = ", ".join(f"b.bit AS k{j}" if j == i else f"0 AS k{j}" for j in range(len(_MASK_SOURCES)))
            if field is None:
                links = (
                    f"SELECT DISTINCT t.application_id, c.province_id AS code FROM {_m2m('exploitation_districts')} t "
                    f"JOIN {_t(District)} d ON d.code = t.district_id JOIN {_t(Canton)} c ON c.code = d.canton_id "
                    f"WHERE {mask_scope}"
                )
                branches.append(
                    f"SELECT v.application_id, {slots} FROM ({links}) v "
                    f"JOIN {bits} b ON b.dimension = {_q(dimension)} AND b.code = v.code"
                )
            else:
                branches.append(
                    f"SELECT t.application_id, {slots} FROM {_m2m(field)} t "
                    f"JOIN (SELECT c.id, b.bit FROM {code} c JOIN {bits} b ON b.dimension = {_q(dimension)} "
                    f"AND b.code = c.code) b ON b.id = t.code_id WHERE {mask_scope}"
                )
        masks = ", ".join(f"CAST({total}(u.k{j}) AS BIGINT) AS {d}_mask" for j, d in enumerate(_MASK_SOURCES))
        return f"SELECT u.application_id, {masks} FROM ({' UNION ALL '.join(branches)}) u GROUP BY u.application_id"

    def fact_sql(self, *, target: str, scope: str, mask_scope: str) -> str:
        """INSERT the fact rows of the applications in ``scope`` (a condition on ``a``) into ``target``;
        ``mask_scope`` is the same condition on ``t.application_id`` for the many-to-many tables."""
        decided = ", ".join(_q(s) for s in DECIDED)
        open_ = ", ".join(_q(s) for s in OPEN)
        paused = (
            f" AND a.status <> {_q(Status.INFO_REQUESTED)}" if settings.DEADLINE_PAUSES_ON_INFORMATION_REQUEST else ""
        )
        deadline = int(settings.DECISION_DEADLINE_BUSINESS_DAYS)
        age = "a.age_at_application"
        is_decided = f"a.status IN ({decided}) AND a.decided_on IS NOT NULL"
        recruitment_country = (
            "CASE WHEN a.recruitment_country <> '' THEN a.recruitment_country "
            f"WHEN a.recruitment_province_id IS NOT NULL OR a.recruitment_district_id IS NOT NULL "
            f"THEN {_q(self.country)} ELSE '' END"
        )
        code, district, canton = _t(Code), _t(District), _t(Canton)
        mask_columns = {f"{d}_mask": f"COALESCE(m.{d}_mask, 0)" for d in _MASK_SOURCES}
        columns = {
            "application_id": "a.id",
            "person_ref": "COALESCE(pk.ref, a.person_id)",
            "record_key": "COALESCE(rkey.key, 0)",
            "person_key": "COALESCE(pkey.key, 0)",
            "institution": "i.code",
            "status": "a.status",
            "received_year": _year("a.received_on"),
            "decided_year": f"CASE WHEN {is_decided} THEN {_year('a.decided_on')} END",
            "outcome": f"CASE WHEN a.status = {_q(Status.ACCREDITED)} AND a.decided_on IS NOT NULL THEN 'A' "
            f"WHEN a.status = {_q(Status.NOT_ACCREDITED)} AND a.decided_on IS NOT NULL THEN 'N' "
            f"WHEN a.status = {_q(Status.WITHDRAWN)} THEN 'W' ELSE 'O' END",
            "person_dup": "FALSE",
            "overdue": f"CASE WHEN a.status IN ({open_}){paused} AND a.due_on < %(today)s THEN TRUE ELSE FALSE END",
            "business_days": f"CASE WHEN {is_decided} THEN bd_dec.ordinal - bd_rec.ordinal END",
            "within_deadline": f"CASE WHEN NOT ({is_decided}) THEN NULL "
            "WHEN a.due_on IS NOT NULL THEN (CASE WHEN a.decided_on <= a.due_on THEN TRUE ELSE FALSE END) "
            f"WHEN bd_dec.ordinal - bd_rec.ordinal <= {deadline} THEN TRUE ELSE FALSE END",
            "age_at_application": age,
            "age_group": f"CASE WHEN {age} IS NULL THEN '' ELSE {_age_group_case(age)} END",
            "victim_group": f"CASE WHEN {age} IS NULL THEN '' "
            f"WHEN sex.code = 'F' THEN (CASE WHEN {age} < {ADULT_AGE} THEN 'GIRL' ELSE 'WOMAN' END) "
            f"WHEN sex.code = 'M' THEN (CASE WHEN {age} < {ADULT_AGE} THEN 'BOY' ELSE 'MAN' END) ELSE '' END",
            "sex": _recorded("sex"),
            "gender_identity": _recorded("gi"),
            "nationality": "COALESCE(nat.country, '')",
            "migration_status": _recorded("ms"),
            "occupation": _recorded("oc"),
            "education": _recorded("ed"),
            "residence_district": "COALESCE(a.residence_district_id, '')",
            "residence_canton": "COALESCE(rd.canton_id, a.residence_canton_id, '')",
            "residence_province": "COALESCE(rc.province_id, a.residence_province_id, '')",
            "mother_tongue": "COALESCE(a.mother_tongue_id, '')",
            "relationship": _recorded("rt"),
            "recruitment_province": "COALESCE(qc.province_id, a.recruitment_province_id, '')",
            "recruitment_canton": "COALESCE(qd.canton_id, a.recruitment_canton_id, '')",
            "recruitment_country": recruitment_country,
            "recruitment_place": f"CASE WHEN qp.iso_3166_2 <> '' AND a.recruitment_country IN ('', {_q(self.country)}) "
            f"THEN qp.iso_3166_2 ELSE {recruitment_country} END",
            **mask_columns,
        }
        columns["time_key"] = _time_key_sql(
            columns["received_year"], columns["decided_year"], columns["outcome"], columns["overdue"]
        )
        person, nationality = _t(Person), _t(ApplicationNationality)
        person_scope = (
            "1=1"
            if scope == "1=1"
            else f"person_key IN (SELECT p2.person_key FROM {person} p2 JOIN {_t(Application)} a2 "
            f"ON a2.person_id = p2.id WHERE {scope.replace('a.', 'a2.')})"
        )
        joins = f"""
            FROM {_t(Application)} a
            JOIN {_t(Institution)} i ON i.id = a.institution_id
            JOIN {person} p ON p.id = a.person_id
            LEFT JOIN (SELECT person_key, MIN(id) AS ref FROM {person} WHERE person_key <> '' AND {person_scope}
                GROUP BY person_key) pk ON pk.person_key = p.person_key
            LEFT JOIN {code} sex ON sex.id = a.sex_id
            LEFT JOIN {code} gi ON gi.id = a.gender_identity_id
            LEFT JOIN {code} ms ON ms.id = a.migration_status_id
            LEFT JOIN {code} oc ON oc.id = a.occupation_id
            LEFT JOIN {code} ed ON ed.id = a.education_level_id
            LEFT JOIN {code} rt ON rt.id = a.relationship_to_trafficker_id
            LEFT JOIN {district} rd ON rd.code = a.residence_district_id
            LEFT JOIN {canton} rc ON rc.code = rd.canton_id
            LEFT JOIN {district} qd ON qd.code = a.recruitment_district_id
            LEFT JOIN {canton} qc ON qc.code = qd.canton_id
            LEFT JOIN {_t(Province)} qp ON qp.code = COALESCE(qc.province_id, a.recruitment_province_id)
            LEFT JOIN (SELECT t.application_id, MIN(t.id) AS first FROM {nationality} t WHERE {mask_scope}
                GROUP BY t.application_id) nf ON nf.application_id = a.id
            LEFT JOIN {nationality} nat ON nat.id = nf.first
            LEFT JOIN {_t(BusinessDay)} bd_rec ON bd_rec.day = a.received_on
            LEFT JOIN {_t(BusinessDay)} bd_dec ON bd_dec.day = a.decided_on
            LEFT JOIN ({self.masks_sql(mask_scope)}) m ON m.application_id = a.id
            LEFT JOIN {_t(RecordKey)} rkey ON rkey.application_id = a.id
            LEFT JOIN {_t(PersonKey)} pkey ON pkey.person_id = COALESCE(pk.ref, a.person_id)
            WHERE a.status <> {_q(Status.DRAFT)} AND ({scope})
        """
        names = ", ".join(columns)
        values = ",\n".join(f"{expr} AS {name}" for name, expr in columns.items())
        return f"INSERT INTO {target} ({names}) SELECT {values} {joins}"

    def bridge_selects(self, scope: str) -> list[str]:
        """Bridge rows of the open lists, as SELECTs of (application_id, dimension, code): countries of
        exploitation, and places of exploitation (the province, by ISO 3166-2, of each district of
        exploitation, and each country other than the portal's own, which is named by its provinces when any
        is known). ``scope`` is a condition on ``t.application_id``."""
        country = _t(ApplicationExploitationCountry)
        districts = _m2m("exploitation_districts")
        return [
            f"SELECT t.application_id, 'exploitation_country' AS dimension, t.country AS code FROM {country} t "
            f"WHERE {scope}",
            f"SELECT DISTINCT t.application_id, 'exploitation_place' AS dimension, p.iso_3166_2 AS code "
            f"FROM {districts} t JOIN {_t(District)} d ON d.code = t.district_id "
            f"JOIN {_t(Canton)} c ON c.code = d.canton_id JOIN {_t(Province)} p ON p.code = c.province_id "
            f"WHERE {scope}",
            f"SELECT t.application_id, 'exploitation_place' AS dimension, t.country AS code FROM {country} t "
            f"WHERE {scope} AND (t.country <> {_q(self.country)} OR NOT EXISTS "
            f"(SELECT 1 FROM {districts} x WHERE x.application_id = t.application_id))",
        ]

    def bridge_inserts(self, scope: str) -> list[str]:
        """The INSERTs of the bridge rows of the submitted applications in ``scope`` (see ``bridge_selects``).
        Submitted is read from the applications, not the facts: a full rebuild writes both at once."""
        submitted = f"t.application_id IN (SELECT id FROM {_t(Application)} WHERE status <> {_q(Status.DRAFT)})"
        return [
            f"INSERT INTO {self.value} (application_id, dimension, code) {select}"
            for select in self.bridge_selects(f"{submitted} AND {scope}")
        ]

    def floor_sql(self) -> str:
        """The benchmark's floor: ONE statement that computes the same count cells straight from the records
        (facts derived in a CTE, every cell set in GROUPING SETS, no tables written, no distinct persons)."""
        fact_select = self.fact_sql(target="x", scope="1=1", mask_scope="1=1").split(") SELECT ", 1)[1]
        bridges = " UNION ALL ".join(self.bridge_selects("1=1"))
        parts = []
        groups: dict[tuple[str, ...], list] = {}
        for cell_set in dims.CELL_SETS:
            groups.setdefault(tuple(sorted(d for d in cell_set if d in dims.MULTI_VALUED)), []).append(cell_set)
        for members in groups.values():
            used = sorted({d for s in members for d in s})
            grouping = ", ".join("(" + ", ".join(f"x.{d}" for d in s) + ")" for s in members)
            rows = self._rows_sql(_Source("f", "v"), used)
            parts.append(
                f"SELECT COUNT(*) AS n, SUM(x.pf) AS p, SUM(x.w) AS w FROM ({rows}) x "
                f"GROUP BY x.tk, GROUPING SETS ({grouping})"
            )
        return (
            f"WITH f AS MATERIALIZED (SELECT {fact_select}), v AS MATERIALIZED ({bridges}) "
            f"SELECT COUNT(*) FROM ({' UNION ALL '.join(parts)}) q"
        )

    def mark_person_duplicates(self, where: str = "1=1") -> int:
        """Flag accredited applications whose person has another accredited application the same year (the
        only ones the cells count with COUNT(DISTINCT); everyone else is a plain sum)."""
        fact = self.fact
        self.execute(f"UPDATE {fact} SET person_dup = FALSE WHERE person_dup AND {where}")
        return self.execute(
            f"UPDATE {fact} SET person_dup = TRUE WHERE outcome = 'A' AND {where} AND (person_ref, decided_year) IN ("
            f"SELECT person_ref, decided_year FROM {fact} WHERE outcome = 'A' AND {where} "
            "GROUP BY person_ref, decided_year HAVING COUNT(*) > 1)"
        )

    # ---- cells
    def _rows_sql(self, source: _Source, used: Iterable[str], where: str = "1=1") -> str:
        """Row-level facts with the dimension codes of ``used`` (multi-valued ones joined, one row per value)."""
        bits = _t(MaskBit)
        joins, columns = [], []
        for d in used:
            if d in dims.MASKED:
                joins.append(f"LEFT JOIN {bits} b_{d} ON b_{d}.dimension = {_q(d)} AND (f.{d}_mask & b_{d}.bit) <> 0")
                columns.append(f"COALESCE(b_{d}.code, '') AS {d}")
            elif d in dims.BRIDGED:
                joins.append(
                    f"LEFT JOIN {source.values} b_{d} ON b_{d}.application_id = f.application_id "
                    f"AND b_{d}.dimension = {_q(d)}"
                )
                columns.append(f"COALESCE(b_{d}.code, '') AS {d}")
            else:
                columns.append(f"f.{d} AS {d}")
        return (
            "SELECT f.time_key AS tk, f.decided_year AS dy, f.outcome AS oc, "
            "f.business_days AS days, f.person_ref AS pr, "
            "CASE WHEN f.outcome = 'A' AND NOT f.person_dup THEN 1 ELSE 0 END AS pf, "
            "CASE WHEN f.within_deadline THEN 1 ELSE 0 END AS w, f.record_key AS rk, f.person_key AS prk, "
            "CASE WHEN f.outcome = 'A' AND NOT f.person_dup THEN f.person_key ELSE 0 END AS pfk, "
            "CASE WHEN f.within_deadline THEN f.record_key ELSE 0 END AS wk"
            + "".join(f", {c}" for c in columns)
            + f" FROM {source.facts} f {' '.join(joins)} WHERE ({source.where}) AND ({where})"
        )

    def _key_case(self, used: list[str], sets, column_prefix: str) -> str:
        """Name each output row's cell set from GROUPING(...): bit i (from the left) is 1 when used[i] is not
        part of the row's grouping set."""
        if len(sets) == 1:
            return _q(dims.cell_set_key(sets[0]))
        whens = [f"WHEN {_grouping_mask(used, s)} THEN {_q(dims.cell_set_key(s))}" for s in sets]
        args = ", ".join(f"{column_prefix}{d}" for d in used)
        return f"CASE GROUPING({args}) {' '.join(whens)} END"

    def _cells_columns(self, kind: _Kind, aggregates: dict[str, str], out_dims: Iterable[str]) -> str:
        """The IndicatorCell columns a cell SELECT fills, in its order (see ``_cells_select``)."""
        return ", ".join(["version_id", "cell_set", "kind", *(c for c, _ in kind.outputs("")), *aggregates, *out_dims])

    def _cells_select(self, version: int, kind: _Kind, sets, from_sql: str, aggregates, prefix: str, out_dims) -> str:
        """PostgreSQL: SELECT the cells of ``sets`` (one GROUPING SETS statement) from ``from_sql``, in the columns
        of ``_cells_columns``; a dimension of ``out_dims`` outside every set is NULL."""
        used = sorted({d for s in sets for d in s})
        group = ", ".join(f"{prefix}{r}" for r in kind.group)
        grouping = ", ".join("(" + ", ".join(f"{prefix}{d}" for d in s) + ")" for s in sets)
        values = [
            str(int(version)),
            self._key_case(used, sets, prefix),
            _q(kind.name),
            *(v for _, v in kind.outputs(prefix)),
            *aggregates.values(),
            *(f"{prefix}{d}" if d in used else "NULL" for d in out_dims),
        ]
        return f"SELECT {', '.join(values)} FROM {from_sql} GROUP BY {group}, GROUPING SETS ({grouping})"

    def _insert(self, version: int, kind: _Kind, sets, inner: str, aggregates: dict[str, str], prefix: str) -> int:
        """One INSERT of the cells of ``sets`` from the rows of ``inner`` (columns named as in _rows_sql, or
        pre-aggregated). PostgreSQL: one GROUPING SETS statement; elsewhere one GROUP BY per set."""
        source = f"({inner}) {prefix[:-1]}"
        if self.postgres:
            used = sorted({d for s in sets for d in s})
            columns = self._cells_columns(kind, aggregates, used)
            select = self._cells_select(version, kind, sets, source, aggregates, prefix, used)
            return self.execute(f"INSERT INTO {self.cell} ({columns}) {select}")
        outputs = [v for _, v in kind.outputs(prefix)]
        group = [f"{prefix}{r}" for r in kind.group]
        rows = 0
        for s in sets:
            values = [str(int(version)), _q(dims.cell_set_key(s)), _q(kind.name), *outputs, *aggregates.values()]
            values += [f"{prefix}{d}" for d in s]
            rows += self.execute(
                f"INSERT INTO {self.cell} ({self._cells_columns(kind, aggregates, s)}) SELECT {', '.join(values)} "
                f"FROM {source} GROUP BY {', '.join(group + [f'{prefix}{d}' for d in s])}"
            )
        return rows

    def sum_jobs(self, version: int, source: _Source) -> list[tuple[int, Callable[[], int]]]:
        """The cells whose counts add up (applications, non-duplicated persons, days histogram) as independent
        statements, each with a rough cost, largest first. Two levels: the facts are grouped by a few wide
        "bases" (``dims.plan_bases``), and every cell set is summed from the much smaller result of the base that
        contains it. PostgreSQL: one statement per pass (``dims.plan_passes``), in which one scan of the facts
        feeds a hash table per base (GROUPING SETS) and every base's cell sets are summed from that; scanning
        and joining the facts once per pass rather than once per base is what keeps a full rebuild of a million
        applications within budget. Elsewhere: one GROUP BY statement per base."""
        jobs = []
        for kind, sets in ((_COUNT, dims.CELL_SETS), (_DAYS, dims.TIMELINESS_SETS)):
            aggregates = {
                "n": "SUM(y.n)",
                "persons": "SUM(y.p)" if kind is _COUNT else "0",
                "within_deadline": "SUM(y.w)",
                "n_key": _key_sum("y.nk"),
                "persons_key": _key_sum("y.pk") if kind is _COUNT else "0",
                "within_key": _key_sum("y.wk"),
            }
            bases = dims.plan_bases(sets)
            if self.postgres:
                jobs += [
                    (_pass_cost(group), partial(self._insert_pass, version, kind, group, source, aggregates))
                    for group in dims.plan_passes(bases)
                ]
            else:
                jobs += [
                    (_pass_cost([b]), partial(self._insert_base, version, kind, b, source, aggregates)) for b in bases
                ]
        return sorted(jobs, key=lambda job: -job[0])

    def _insert_base(self, version: int, kind: _Kind, base_members, source: _Source, aggregates) -> int:
        base, members = base_members
        group_cols = [*kind.group, *base]
        pre = (
            f"SELECT {', '.join(f'r.{c}' for c in group_cols)}, COUNT(*) AS n, SUM(r.pf) AS p, "
            f"SUM(r.w) AS w, {_KEY_SUMS} FROM ({self._rows_sql(source, base, kind.where)}) r "
            f"GROUP BY {', '.join(f'r.{c}' for c in group_cols)}"
        )
        return self._insert(version, kind, members, pre, aggregates, "y.")

    def _insert_pass(self, version: int, kind: _Kind, bases, source: _Source, aggregates: dict[str, str]) -> int:
        """PostgreSQL: the cells of every set of ``bases`` in one INSERT. The CTE groups the facts by every
        base at once (GROUPING SETS; ``g`` tells the base of each row); each UNION branch sums the cell sets of
        one base from its rows."""
        used = sorted({d for base, _ in bases for d in base})
        if len(used) > 31:  # GROUPING() takes at most 31 arguments; dims.PASS_COMBINATIONS keeps passes far below
            raise ValueError(f"A recompute pass over {len(used)} dimensions")
        group = list(kind.group)
        grouping = ", ".join("(" + ", ".join(f"r.{d}" for d in base) + ")" for base, _ in bases)
        g = f"GROUPING({', '.join(f'r.{d}' for d in used)})" if used else "0"
        level1 = (
            f"SELECT {', '.join(f'r.{c}' for c in group + used)}, {g} AS g, COUNT(*) AS n, SUM(r.pf) AS p, "
            f"SUM(r.w) AS w, {_KEY_SUMS} FROM ({self._rows_sql(source, used, kind.where)}) r "
            f"GROUP BY {', '.join(f'r.{c}' for c in group)}, GROUPING SETS ({grouping})"
        )
        branches = [
            self._cells_select(
                version, kind, members, f"b y WHERE y.g = {_grouping_mask(used, base)}", aggregates, "y.", used
            )
            for base, members in bases
        ]
        columns = self._cells_columns(kind, aggregates, used)
        return self.execute(
            f"WITH b AS MATERIALIZED ({level1}) INSERT INTO {self.cell} ({columns}) {' UNION ALL '.join(branches)}"
        )

    def cells_direct(self, version: int, kind: _Kind, sets, source: _Source, *, sign: int = 1, distinct: bool) -> int:
        """Cells straight from the rows, one statement per group of sets sharing their multi-valued
        dimensions; ``distinct`` counts accredited persons with COUNT(DISTINCT) (small inputs only)."""
        groups: dict[tuple[str, ...], list] = {}
        for s in sets:
            groups.setdefault(tuple(sorted(d for d in s if d in dims.MULTI_VALUED)), []).append(s)
        rows = 0
        for members in groups.values():
            used = sorted({d for s in members for d in s})
            inner = self._rows_sql(source, used, kind.where)
            if kind is _DAYS:
                persons = persons_key = "0"
            elif distinct:
                persons = f"{sign} * COUNT(DISTINCT CASE WHEN x.oc = 'A' THEN x.pr END)"
                # The keys of the distinct persons: each person's (ref, key) pair is summed once, and the ref part
                # vanishes modulo KEY_MODULUS. NUMERIC on PostgreSQL so that large refs cannot overflow.
                numeric = "CAST(x.pr AS NUMERIC)" if self.postgres else "x.pr"
                pair = f"{numeric} * {KEY_MODULUS} + x.prk"
                persons_key = f"{sign} * " + _key_sum(f"DISTINCT CASE WHEN x.oc = 'A' THEN {pair} END")
            else:
                persons = f"{sign} * SUM(x.pf)"
                persons_key = f"{sign} * {_key_sum('x.pfk')}"
            aggregates = {
                "n": "0" if kind is _DUPS else f"{sign} * COUNT(*)",
                "persons": persons,
                "within_deadline": "0" if kind is _DUPS else f"{sign} * SUM(x.w)",
                "n_key": "0" if kind is _DUPS else f"{sign} * {_key_sum('x.rk')}",
                "persons_key": persons_key,
                "within_key": "0" if kind is _DUPS else f"{sign} * {_key_sum('x.wk')}",
            }
            rows += self._insert(version, kind, members, inner, aggregates, "x.")
        return rows

    def build_cells(self, version: int, source: _Source) -> int:
        rows = self.dups_job(version)()
        return rows + sum(job() for _, job in self.sum_jobs(version, source))

    def dups_job(self, version: int) -> Callable[[], int]:
        """The cells of the persons counted twice (``ind_dups``, a temporary table of this session)."""
        return partial(
            self.cells_direct, version, _DUPS, dims.CELL_SETS, _Source("ind_dups", self.value), distinct=True
        )

    # ---- the three kinds of recompute
    def year_span(self) -> list[int]:
        lo = self.scalar(f"SELECT MIN(received_year) FROM {self.fact}")
        hi = self.scalar(f"SELECT MAX(COALESCE(decided_year, received_year)) FROM {self.fact}")
        return [] if lo is None else list(range(int(lo), int(hi) + 1))

    def full(self, *, version: IndicatorVersion) -> int:
        rows = self.all_facts()
        rows += self.build_cells(version.pk, _Source(self.fact, self.value))
        self.execute("DROP TABLE IF EXISTS ind_dups")
        return rows

    def all_facts(self) -> int:
        """Rebuild the fact and bridge tables from every submitted application, flag the persons counted twice
        and copy them to the temporary table ``ind_dups`` (of this connection's session) for the cells."""
        self.clear_facts()
        rows = sum(job() for _, job in self.fact_jobs(parts=1))
        return rows + self.finish_facts()

    def clear_facts(self) -> None:
        self.calendar()
        self.record_keys()
        self.mask_bits()
        if self.postgres:
            self.execute(f"TRUNCATE {self.fact}, {self.value}")
        else:
            self.execute(f"DELETE FROM {self.value}")
            self.execute(f"DELETE FROM {self.fact}")

    def fact_jobs(self, *, parts: int) -> list[tuple[int, Callable[[], int]]]:
        """The statements that fill the emptied fact and bridge tables, as independent jobs with a rough cost
        (seconds at a million applications), largest first: the facts in ``parts`` ranges of application ids,
        and each kind of bridge row."""
        app = _t(Application)
        lo, hi = self._fetch(f"SELECT MIN(id), MAX(id) FROM {app}")[0]
        jobs: list[tuple[int, Callable[[], int]]] = []
        if lo is not None:
            step = (hi - lo) // parts + 1
            for first in range(lo, hi + 1, step):
                last = first + step - 1
                sql = self.fact_sql(
                    target=self.fact,
                    scope=f"a.id BETWEEN {first} AND {last}",
                    mask_scope=f"t.application_id BETWEEN {first} AND {last}",
                )
                jobs.append((20 // parts, partial(self.execute, sql, {"today": self.today})))
        for cost, sql in zip((2, 5, 2), self.bridge_inserts("1=1"), strict=True):
            jobs.append((cost, partial(self.execute, sql)))
        return sorted(jobs, key=lambda job: -job[0])

    def finish_facts(self) -> int:
        if self.postgres:
            # Before the statements that read the facts back: statistics of an emptied table plan them badly.
            self.execute(f"ANALYZE {self.fact}")
            self.execute(f"ANALYZE {self.value}")
        rows = self.mark_person_duplicates()
        self.years = self.year_span()
        self.temp_like("ind_dups", self.fact, "person_dup")
        return rows

    def incremental(self, *, version: IndicatorVersion, years: list[int]) -> int:
        """Replace the facts of the applications received or decided in ``years`` (before or after the change)
        and every cell of those years."""
        self.calendar()
        self.mask_bits()
        app, in_years = _t(Application), _ints(years)
        date_ranges = " OR ".join(
            f"(received_on BETWEEN '{y}-01-01' AND '{y}-12-31') OR (decided_on BETWEEN '{y}-01-01' AND '{y}-12-31')"
            for y in years
        )
        self.execute("DROP TABLE IF EXISTS ind_refresh")
        self.execute("CREATE TEMP TABLE ind_refresh (id BIGINT PRIMARY KEY)")
        self.execute(
            f"INSERT INTO ind_refresh (id) SELECT application_id FROM {self.fact} "
            f"WHERE received_year IN ({in_years}) OR decided_year IN ({in_years}) "
            f"UNION SELECT id FROM {app} WHERE {date_ranges}"
        )
        if self.postgres:
            self.execute("ANALYZE ind_refresh")
        rows = self._replace_facts()
        rows += self.mark_person_duplicates(f"decided_year IN ({in_years})")
        self.execute(
            f"DELETE FROM {self.cell} WHERE version_id = %s AND (received_year IN ({in_years}) "
            f"OR decided_year IN ({in_years}))",
            [version.pk],
        )
        touched = f"(f.received_year IN ({in_years}) OR f.decided_year IN ({in_years}))"
        self.temp_like("ind_dups", self.fact, f"person_dup AND decided_year IN ({in_years})")
        rows += self.build_cells(version.pk, _Source(self.fact, self.value, touched))
        self.execute("DROP TABLE IF EXISTS ind_dups")
        self.execute("DROP TABLE IF EXISTS ind_refresh")
        self.years = sorted(set(self.years) | set(years))
        return rows

    def _replace_facts(self, refresh: str = "(SELECT id FROM ind_refresh)") -> int:
        """Replace the fact and bridge rows of the applications listed in ``refresh`` (the ones that no longer
        exist or became drafts are just removed)."""
        self.record_keys(f"a.id IN {refresh}")
        self.execute(f"DELETE FROM {self.value} WHERE application_id IN {refresh}")
        self.execute(f"DELETE FROM {self.fact} WHERE application_id IN {refresh}")
        rows = self.execute(
            self.fact_sql(target=self.fact, scope=f"a.id IN {refresh}", mask_scope=f"t.application_id IN {refresh}"),
            {"today": self.today},
        )
        rows += sum(self.execute(sql) for sql in self.bridge_inserts(f"t.application_id IN {refresh}"))
        return rows

    def delta(self, *, version: IndicatorVersion, application_ids: list[int]) -> int:
        """Apply the difference the changed applications make: their old cells out (negative rows), their new
        cells in. Every accredited application of the same persons takes part, so distinct persons stay exact.
        The nightly full rebuild folds the extra rows away."""
        fact = self.fact
        changed = sorted({int(pk) for pk in application_ids})
        ids = ", ".join(str(pk) for pk in changed)
        self.calendar(f"id IN ({ids})")
        self.mask_bits()
        # The persons concerned, before and after the change, and all their accredited applications. The sets
        # are small, so they are written into the SQL as literals: the planner then uses the primary keys.
        persons = {
            ref
            for (ref,) in self._fetch(
                f"SELECT person_ref FROM {fact} WHERE application_id IN ({ids}) UNION "
                f"SELECT COALESCE((SELECT MIN(p2.id) FROM {_t(Person)} p2 WHERE p2.person_key = p.person_key "
                f"AND p.person_key <> ''), p.id) FROM {_t(Application)} a JOIN {_t(Person)} p ON p.id = a.person_id "
                f"WHERE a.id IN ({ids})"
            )
        }
        if persons:
            refs = ", ".join(str(int(r)) for r in persons)
            keys = f"SELECT person_key FROM {_t(Person)} WHERE id IN ({refs}) AND person_key <> ''"
            changed += [
                pk
                for (pk,) in self._fetch(
                    f"SELECT application_id FROM {fact} WHERE outcome = 'A' AND person_ref IN ({refs}) UNION "
                    f"SELECT a.id FROM {_t(Application)} a JOIN {_t(Person)} p ON p.id = a.person_id "
                    f"WHERE a.status = {_q(Status.ACCREDITED)} AND (p.id IN ({refs}) OR p.person_key IN ({keys}))"
                )
            ]
        ids = ", ".join(str(pk) for pk in sorted(set(changed)))
        refresh = f"({ids})"
        self.execute("DROP TABLE IF EXISTS ind_refresh")
        self.execute("CREATE TEMP TABLE ind_refresh (id BIGINT PRIMARY KEY)")
        self.execute(f"INSERT INTO ind_refresh (id) VALUES {', '.join(f'({pk})' for pk in sorted(set(changed)))}")
        self.temp_like("ind_old", fact, f"application_id IN {refresh}")
        self.temp_like("ind_old_values", self.value, f"application_id IN {refresh}")
        rows = self._replace_facts(refresh)
        rows += self.mark_person_duplicates(f"application_id IN {refresh}")
        self.years = sorted(
            {
                int(y)
                for table in ("ind_old", fact)
                for column in ("received_year", "decided_year")
                for (y,) in self._fetch(
                    f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL AND application_id IN {refresh}"
                )
            }
        )
        new = _Source(f"(SELECT * FROM {fact} WHERE application_id IN {refresh})", self.value)
        old = _Source("ind_old", "ind_old_values")
        for sign, source in ((-1, old), (1, new)):
            rows += self.cells_direct(version.pk, _COUNT, dims.CELL_SETS, source, sign=sign, distinct=True)
            rows += self.cells_direct(version.pk, _DAYS, dims.TIMELINESS_SETS, source, sign=sign, distinct=False)
        for name in ("ind_new", "ind_old", "ind_old_values", "ind_refresh"):
            self.execute(f"DROP TABLE IF EXISTS {name}")
        return rows

    def _fetch(self, sql: str) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
