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
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Institution
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
from .models import (
    ApplicationFact,
    ApplicationFactValue,
    BusinessDay,
    IndicatorCell,
    IndicatorVersion,
    PendingRecompute,
    RecomputeLock,
    RecomputeRun,
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

DECIDED = (Status.ACCREDITED, Status.NOT_ACCREDITED)
OPEN = (Status.SUBMITTED, Status.UNDER_REVIEW, Status.INFO_REQUESTED)


class RecomputeBusy(Exception):
    """Another recompute holds the lock and the caller asked not to wait."""


# --------------------------------------------------------------------------------------------------------------
# The outbox


def recompute_mark_dirty(*, years: Iterable[int]) -> None:
    """Remember that the indicators of ``years`` are stale and schedule a recompute after the commit.

    Call it inside the write transaction of any change to an application or its decision, with every year the
    change may affect: the year of receipt and of decision, before and after the change, and the current year
    while the application is undecided (it then counts as pending at every year end since its receipt). The
    recompute covers the whole span from the smallest to the largest pending year, because "pending at year
    end" depends on every year between receipt and decision.

    The years are written to the outbox (``PendingRecompute``) in the caller's transaction, so they are kept
    exactly when the change is. After the commit one task is queued per burst of changes (a cache key set
    with NX and a few seconds' expiry); if the broker is unreachable the change still succeeds, the years stay
    in the outbox, and the periodic sweep (or the next successful enqueue) recomputes them. With
    ``CELERY_TASK_ALWAYS_EAGER`` (the embedded default) the recompute runs in-process right after the commit.
    """
    wanted = sorted({int(y) for y in years if y is not None})
    if not wanted:
        return
    now = timezone.now()
    PendingRecompute.objects.bulk_create([PendingRecompute(year=y, marked_at=now) for y in wanted])
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
    return sorted(set(PendingRecompute.objects.values_list("year", flat=True)))


# --------------------------------------------------------------------------------------------------------------
# Entry points


def recompute_pending(*, wait: bool = True, trigger: str = "") -> RecomputeRun | None:
    """Recompute the years waiting in the outbox (all of them, from the smallest to the largest), or build
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


# Test hook: called inside the build transaction after the new cells are written and before the commit.
_before_commit: Callable[[], None] | None = None


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
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            # One snapshot for the whole build: every table is read as of the same moment.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        if connection.vendor != "postgresql":
            lock = RecomputeLock.objects.select_for_update(nowait=False)
            list(lock.filter(name=LOCK_NAME))
        RecomputeRun.objects.filter(outcome=RecomputeRun.Outcome.RUNNING, started_at__lt=started - STALE_RUN).update(
            outcome=RecomputeRun.Outcome.ABANDONED
        )
        marks = list(PendingRecompute.objects.values_list("id", "year"))
        builder = _Builder(today=timezone.localdate())
        current = IndicatorVersion.objects.filter(is_current=True).first()
        if kind == RecomputeRun.Kind.INCREMENTAL and current is not None:
            marked = [year for _, year in marks]
            if not marked:
                return 0, [], current
            lo, hi = min(marked), max(marked)
            rows = builder.incremental(version=current, lo=lo, hi=hi)
            years = list(range(lo, hi + 1))
            current.data_as_of = started
            current.save(update_fields=["data_as_of"])
            version = current
        else:
            version = IndicatorVersion.objects.create(data_as_of=started)
            rows = builder.full(version=version)
            years = builder.years
            IndicatorVersion.objects.filter(is_current=True).update(is_current=False)
            IndicatorVersion.objects.filter(pk=version.pk).update(is_current=True)
            version.is_current = True
        PendingRecompute.objects.filter(id__in=[pk for pk, _ in marks]).delete()
        if _before_commit is not None:
            _before_commit()
    return rows, years, version


def _drop_old_versions() -> None:
    """Delete the cells of versions that are no longer current (after the swap, outside its transaction)."""
    old = list(IndicatorVersion.objects.filter(is_current=False).values_list("pk", flat=True))
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


@dataclass(frozen=True)
class _Bridge:
    dimension: str
    sql: str  # SELECT application_id, code ... (records side), with {scope} for the application filter


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
        literal = "'" + code.replace("'", "''") + "'"
        condition = f"{column} >= {lo}" + (f" AND {column} <= {hi}" if hi is not None else "")
        whens.append(f"WHEN {condition} THEN {literal}")
    return f"CASE {' '.join(whens)} ELSE '' END" if whens else "''"


def _year(expr: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(YEAR FROM {expr}) AS INTEGER)"
    return f"CAST(strftime('%%Y', {expr}) AS INTEGER)"


def _q(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


SINGLE_COLUMNS = (
    "institution",
    "age_group",
    "victim_group",
    "sex",
    "gender_identity",
    "nationality",
    "migration_status",
    "occupation",
    "education",
    "residence_district",
    "residence_canton",
    "residence_province",
    "mother_tongue",
    "relationship",
    "recruitment_province",
    "recruitment_country",
    "recruitment_place",
)
assert set(SINGLE_COLUMNS) == set(dims.DIMENSIONS) - dims.MULTI_VALUED  # noqa: S101


class _Builder:
    """Generates and runs the SQL of one recompute on the current connection."""

    def __init__(self, *, today: date):
        self.today = today
        self.postgres = connection.vendor == "postgresql"
        self.country = settings.PORTAL_COUNTRY
        self.years: list[int] = []

    # ---- helpers
    def execute(self, sql: str, params=None) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return max(cursor.rowcount, 0)

    def scalar(self, sql: str, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    # ---- calendar
    def calendar(self) -> None:
        """Make the business-day calendar cover every date of the records (a loop over days, not records)."""
        import holidays

        app = _t(Application)
        lo = self.scalar(f"SELECT MIN(received_on) FROM {app}")
        hi = self.scalar(f"SELECT MAX(decided_on) FROM {app}")
        if lo is None:
            return
        if isinstance(lo, str):
            lo = date.fromisoformat(lo)
        if isinstance(hi, str):
            hi = date.fromisoformat(hi)
        first = date(lo.year - 1, 1, 1)
        last = date(max(hi or self.today, self.today).year + 1, 12, 31)
        have = BusinessDay.objects.order_by("day")
        if have.exists() and have.first().day <= first and have.last().day >= last:
            return
        BusinessDay.objects.all().delete()
        public = holidays.country_holidays(settings.HOLIDAY_COUNTRY, years=range(first.year, last.year + 1))
        rows, ordinal, day = [], 0, first
        while day <= last:
            if day.weekday() < 5 and day not in public:
                ordinal += 1
            rows.append(BusinessDay(day=day, ordinal=ordinal))
            day += timedelta(days=1)
        BusinessDay.objects.bulk_create(rows, batch_size=2000)

    # ---- analytics tables
    def fact_sql(self, scope: str) -> str:
        a = "a"
        statuses_decided = ", ".join(_q(s) for s in DECIDED)
        statuses_open = ", ".join(_q(s) for s in OPEN)
        paused = (
            f" AND a.status <> {_q(Status.INFO_REQUESTED)}" if settings.DEADLINE_PAUSES_ON_INFORMATION_REQUEST else ""
        )
        deadline = int(settings.DECISION_DEADLINE_BUSINESS_DAYS)
        age = f"{a}.age_at_application"
        decided_year = _year("a.decided_on")
        recruitment_country = (
            f"CASE WHEN a.recruitment_country <> '' THEN a.recruitment_country "
            f"WHEN a.recruitment_district_id IS NOT NULL THEN {_q(self.country)} ELSE '' END"
        )
        columns = {
            "application_id": "a.id",
            "person_ref": "COALESCE(pk.ref, a.person_id)",
            "institution": "i.code",
            "status": "a.status",
            "received_year": _year("a.received_on"),
            "decided_year": f"CASE WHEN a.status IN ({statuses_decided}) THEN {decided_year} END",
            "outcome": f"CASE a.status WHEN {_q(Status.ACCREDITED)} THEN 'A' "
            f"WHEN {_q(Status.NOT_ACCREDITED)} THEN 'N' ELSE '' END",
            "person_dup": "FALSE",
            "pending_until": f"CASE WHEN a.status IN ({statuses_decided}) THEN {decided_year} - 1 "
            f"WHEN a.status IN ({statuses_open}) THEN {self.today.year} END",
            "overdue": f"CASE WHEN a.status IN ({statuses_open}){paused} AND a.due_on < %(today)s "
            "THEN TRUE ELSE FALSE END",
            "business_days": f"CASE WHEN a.status IN ({statuses_decided}) THEN bd_dec.ordinal - bd_rec.ordinal END",
            "within_deadline": f"CASE WHEN a.status NOT IN ({statuses_decided}) OR a.decided_on IS NULL THEN NULL "
            "WHEN a.due_on IS NOT NULL THEN (CASE WHEN a.decided_on <= a.due_on THEN TRUE ELSE FALSE END) "
            f"WHEN bd_dec.ordinal - bd_rec.ordinal <= {deadline} THEN TRUE ELSE FALSE END",
            "age_at_application": age,
            "age_group": f"CASE WHEN {age} IS NULL THEN '' ELSE {_age_group_case(age)} END",
            "victim_group": f"CASE WHEN {age} IS NULL THEN '' "
            f"WHEN sex.code = 'F' THEN (CASE WHEN {age} < {ADULT_AGE} THEN 'GIRL' ELSE 'WOMAN' END) "
            f"WHEN sex.code = 'M' THEN (CASE WHEN {age} < {ADULT_AGE} THEN 'BOY' ELSE 'MAN' END) ELSE '' END",
            "sex": "COALESCE(sex.code, '')",
            "gender_identity": "COALESCE(gi.code, '')",
            "nationality": f"COALESCE((SELECT n.country FROM {_t(ApplicationNationality)} n "
            "WHERE n.application_id = a.id ORDER BY n.id LIMIT 1), '')",
            "migration_status": "COALESCE(ms.code, '')",
            "occupation": "COALESCE(oc.code, '')",
            "education": "COALESCE(ed.code, '')",
            "residence_district": "COALESCE(a.residence_district_id, '')",
            "residence_canton": "COALESCE(rd.canton_id, '')",
            "residence_province": "COALESCE(rc.province_id, '')",
            "mother_tongue": "COALESCE(a.mother_tongue_id, '')",
            "relationship": "COALESCE(rt.code, '')",
            "recruitment_province": "COALESCE(qc.province_id, '')",
            "recruitment_country": recruitment_country,
            "recruitment_place": f"CASE WHEN qp.iso_3166_2 <> '' AND a.recruitment_country IN ('', {_q(self.country)}) "
            f"THEN qp.iso_3166_2 ELSE {recruitment_country} END",
        }
        code = _t(Code)
        district, canton = _t(District), _t(Canton)
        person = _t(Person)
        joins = f"""
            FROM {_t(Application)} a
            JOIN {_t(Institution)} i ON i.id = a.institution_id
            JOIN {person} p ON p.id = a.person_id
            LEFT JOIN (SELECT person_key, MIN(id) AS ref FROM {person} WHERE person_key <> '' GROUP BY person_key) pk
                ON pk.person_key = p.person_key
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
            LEFT JOIN {_t(Province)} qp ON qp.code = qc.province_id
            LEFT JOIN {_t(BusinessDay)} bd_rec ON bd_rec.day = a.received_on
            LEFT JOIN {_t(BusinessDay)} bd_dec ON bd_dec.day = a.decided_on
            WHERE a.status <> {_q(Status.DRAFT)} AND ({scope})
        """
        names = ", ".join(columns)
        values = ",\n".join(columns.values())
        return f"INSERT INTO {_t(ApplicationFact)} ({names}) SELECT {values} {joins}"

    def bridges(self) -> list[_Bridge]:
        code = _t(Code)
        district, canton, province = _t(District), _t(Canton), _t(Province)
        country = _t(ApplicationExploitationCountry)
        districts = _m2m("exploitation_districts")
        out = [
            _Bridge(
                dimension,
                f"SELECT t.application_id AS application_id, c.code AS code FROM {_m2m(field)} t "
                f"JOIN {code} c ON c.id = t.code_id WHERE {{scope}}",
            )
            for dimension, field in (
                ("exploitation_form", "exploitation_forms"),
                ("means", "means"),
                ("recruitment_method", "recruitment_methods"),
                ("control_method", "control_methods"),
            )
        ]
        out.append(
            _Bridge(
                "exploitation_country",
                f"SELECT t.application_id AS application_id, t.country AS code FROM {country} t WHERE {{scope}}",
            )
        )
        out.append(
            _Bridge(
                "exploitation_province",
                f"SELECT DISTINCT t.application_id AS application_id, c.province_id AS code FROM {districts} t "
                f"JOIN {district} d ON d.code = t.district_id JOIN {canton} c ON c.code = d.canton_id WHERE {{scope}}",
            )
        )
        # Places: the province (ISO 3166-2) of each district of exploitation, and each country of exploitation
        # other than the portal's own (which is named by its provinces when any is known).
        out.append(
            _Bridge(
                "exploitation_place",
                f"SELECT DISTINCT t.application_id AS application_id, p.iso_3166_2 AS code FROM {districts} t "
                f"JOIN {district} d ON d.code = t.district_id JOIN {canton} c ON c.code = d.canton_id "
                f"JOIN {province} p ON p.code = c.province_id WHERE {{scope}} "
                f"UNION SELECT t.application_id, t.country FROM {country} t WHERE {{scope}} AND "
                f"(t.country <> {_q(self.country)} OR NOT EXISTS "
                f"(SELECT 1 FROM {districts} x WHERE x.application_id = t.application_id))",
            )
        )
        return out

    def load_facts(self, scope: str, bridge_scope: str) -> int:
        """Insert the fact rows of the applications in ``scope`` and their bridge rows."""
        rows = self.execute(self.fact_sql(scope), {"today": self.today})
        value = _t(ApplicationFactValue)
        for bridge in self.bridges():
            sql = bridge.sql.replace("{scope}", bridge_scope)
            rows += self.execute(
                f"INSERT INTO {value} (application_id, dimension, code) "
                f"SELECT b.application_id, {_q(bridge.dimension)}, b.code FROM ({sql}) b"
            )
        return rows

    def mark_person_duplicates(self, lo: int | None = None, hi: int | None = None) -> int:
        """Flag accredited applications whose person has another accredited application the same year (the
        only ones the cells count with COUNT(DISTINCT); everyone else is a plain sum)."""
        fact = _t(ApplicationFact)
        years = "" if lo is None else f" AND decided_year BETWEEN {lo} AND {hi}"
        if lo is not None:
            self.execute(f"UPDATE {fact} SET person_dup = FALSE WHERE person_dup{years}")
        return self.execute(
            f"UPDATE {fact} SET person_dup = TRUE WHERE outcome = 'A'{years} AND (person_ref, decided_year) IN ("
            f"SELECT person_ref, decided_year FROM {fact} WHERE outcome = 'A'{years} "
            "GROUP BY person_ref, decided_year HAVING COUNT(*) > 1)"
        )

    # ---- events and cells
    def events_sql(self, lo: int, hi: int, *, columns: Iterable[str], dup_only: bool = False) -> str:
        """The rows the measures count: one per (application, measure, year), with the given dimension
        columns. ``dup_only``: only the accredited rows of duplicated persons (counted with DISTINCT)."""
        cols = ", ".join(f"f.{c}" for c in columns)
        cols = (", " + cols) if cols else ""
        fact = _t(ApplicationFact)
        common = f"f.application_id, f.person_ref{cols}"
        decision = (
            f"SELECT CASE WHEN f.outcome = 'A' THEN 'accredited' ELSE 'not_accredited' END AS measure, "
            f"f.decided_year AS year, CASE WHEN f.outcome = 'A' AND NOT f.person_dup THEN 1 ELSE 0 END AS pflag, "
            f"CASE WHEN f.within_deadline THEN 1 ELSE 0 END AS within, {common} FROM {fact} f "
            f"WHERE f.outcome <> '' AND f.decided_year BETWEEN {lo} AND {hi}"
        )
        if dup_only:
            return decision + " AND f.outcome = 'A' AND f.person_dup"
        years = " UNION ALL ".join(f"SELECT {y} AS year" for y in range(lo, hi + 1))
        return " UNION ALL ".join(
            [
                f"SELECT 'received' AS measure, f.received_year AS year, 0 AS pflag, 0 AS within, {common} "
                f"FROM {fact} f WHERE f.received_year BETWEEN {lo} AND {hi}",
                decision,
                f"SELECT 'pending', y.year, 0, 0, {common} FROM {fact} f JOIN ({years}) y "
                f"ON y.year >= f.received_year AND y.year <= f.pending_until "
                f"WHERE f.pending_until IS NOT NULL",
                f"SELECT 'overdue', f.received_year, 0, 0, {common} FROM {fact} f "
                f"WHERE f.overdue AND f.received_year BETWEEN {lo} AND {hi}",
            ]
        )

    def insert_cells(self, version: int, lo: int, hi: int) -> int:
        groups: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for cell_set in dims.CELL_SETS:
            multi = tuple(sorted(d for d in cell_set if d in dims.MULTI_VALUED))
            groups.setdefault(multi, []).append(cell_set)
        rows = 0
        for multi, sets in groups.items():
            rows += self._aggregate(version, lo, hi, sets, multi, kind="main")
            rows += self._aggregate(version, lo, hi, sets, multi, kind="dup")
        rows += self._aggregate(version, lo, hi, dims.TIMELINESS_SETS, (), kind="days")
        return rows

    def _aggregate(self, version, lo, hi, sets, multi, *, kind: str) -> int:
        """One INSERT ... SELECT per group of cell sets that share their multi-valued dimensions (PostgreSQL:
        GROUPING SETS; SQLite: one GROUP BY per set)."""
        used = sorted({d for s in sets for d in s})
        single = [d for d in used if d not in dims.MULTI_VALUED]
        if kind == "days":
            events = (
                "SELECT 'decision_days' AS measure, f.decided_year AS year, f.business_days AS days, "
                "CASE WHEN f.within_deadline THEN 1 ELSE 0 END AS within, f.application_id, f.person_ref"
                + "".join(f", f.{c}" for c in single)
                + f" FROM {_t(ApplicationFact)} f WHERE f.outcome <> '' AND f.business_days IS NOT NULL "
                f"AND f.decided_year BETWEEN {lo} AND {hi}"
            )
        else:
            events = self.events_sql(lo, hi, columns=single, dup_only=(kind == "dup"))
        value = _t(ApplicationFactValue)
        joins = "".join(
            f" LEFT JOIN {value} b_{d} ON b_{d}.application_id = e.application_id AND b_{d}.dimension = {_q(d)}"
            for d in multi
        )
        select_dims = "".join(f", e.{d}" for d in single) + "".join(f", COALESCE(b_{d}.code, '') AS {d}" for d in multi)
        extra = ", e.days" if kind == "days" else ", e.pflag"
        base = f"SELECT e.measure, e.year, e.within, e.person_ref{extra}{select_dims} FROM ({events}) e{joins}"
        if kind == "main":
            measures = "COUNT(*), SUM(x.pflag), SUM(x.within)"
        elif kind == "dup":
            measures = "0, COUNT(DISTINCT x.person_ref), 0"
        else:
            measures = "COUNT(*), 0, SUM(x.within)"
        days = "x.days" if kind == "days" else "NULL"
        group_extra = ", x.days" if kind == "days" else ""
        table = _t(IndicatorCell)
        rows = 0
        if self.postgres and len(sets) > 1:
            mask_case = self._grouping_case(used, sets)
            grouping = ", ".join("(" + ", ".join(f"x.{d}" for d in s) + ")" for s in sets)
            out_cols = ", ".join(used)
            rows += self.execute(
                f"INSERT INTO {table} (version_id, cell_set, measure, year, n, persons, within_deadline, days, "
                f"{out_cols}) SELECT {version}, {mask_case}, x.measure, x.year, {measures}, {days}, "
                + ", ".join(f"x.{d}" for d in used)
                + f" FROM ({base}) x GROUP BY x.measure, x.year{group_extra}, GROUPING SETS ({grouping})"
            )
        else:
            for s in sets:
                out_cols = "".join(f", {d}" for d in s)
                group = "".join(f", x.{d}" for d in s)
                rows += self.execute(
                    f"INSERT INTO {table} (version_id, cell_set, measure, year, n, persons, within_deadline, days"
                    f"{out_cols}) SELECT {version}, {_q(dims.cell_set_key(s))}, x.measure, x.year, {measures}, "
                    f"{days}{group} FROM ({base}) x GROUP BY x.measure, x.year{group_extra}{group}"
                )
        return rows

    @staticmethod
    def _grouping_case(used: list[str], sets) -> str:
        """Name each output row's cell set from GROUPING(...): bit i (from the left) is 1 when used[i] is not
        part of the row's grouping set."""
        width = len(used)
        whens = []
        for s in sets:
            mask = 0
            for i, d in enumerate(used):
                if d not in s:
                    mask |= 1 << (width - 1 - i)
            whens.append(f"WHEN {mask} THEN {_q(dims.cell_set_key(s))}")
        args = ", ".join(f"x.{d}" for d in used)
        return f"CASE GROUPING({args}) {' '.join(whens)} END"

    # ---- the two kinds of recompute
    def year_span(self) -> tuple[int, int] | None:
        fact = _t(ApplicationFact)
        lo = self.scalar(f"SELECT MIN(received_year) FROM {fact}")
        if lo is None:
            return None
        hi = self.scalar(
            f"SELECT MAX(y) FROM (SELECT MAX(received_year) AS y FROM {fact} UNION ALL "
            f"SELECT MAX(decided_year) FROM {fact} UNION ALL SELECT MAX(pending_until) FROM {fact}) t"
        )
        return int(lo), int(hi)

    def full(self, *, version: IndicatorVersion) -> int:
        self.calendar()
        fact, value = _t(ApplicationFact), _t(ApplicationFactValue)
        if self.postgres:
            self.execute(f"TRUNCATE {fact}, {value}")
        else:
            self.execute(f"DELETE FROM {value}")
            self.execute(f"DELETE FROM {fact}")
        rows = self.load_facts("1=1", f"t.application_id IN (SELECT application_id FROM {fact})")
        rows += self.mark_person_duplicates()
        span = self.year_span()
        if span is None:
            return rows
        lo, hi = span
        self.years = list(range(lo, hi + 1))
        rows += self.insert_cells(version.pk, lo, hi)
        return rows

    def incremental(self, *, version: IndicatorVersion, lo: int, hi: int) -> int:
        """Replace the facts of the applications placed in years lo..hi (by receipt or decision, before or after
        the change) and the cells of those years."""
        self.calendar()
        fact, value, app = _t(ApplicationFact), _t(ApplicationFactValue), _t(Application)
        self.execute("DROP TABLE IF EXISTS ind_refresh")
        self.execute("CREATE TEMP TABLE ind_refresh (id BIGINT PRIMARY KEY)")
        first, last = date(lo, 1, 1), date(hi, 12, 31)
        self.execute(
            f"INSERT INTO ind_refresh (id) SELECT application_id FROM {fact} "
            f"WHERE received_year BETWEEN {lo} AND {hi} OR decided_year BETWEEN {lo} AND {hi} "
            f"UNION SELECT id FROM {app} WHERE received_on BETWEEN %s AND %s OR decided_on BETWEEN %s AND %s",
            [first, last, first, last],
        )
        self.execute(f"DELETE FROM {value} WHERE application_id IN (SELECT id FROM ind_refresh)")
        self.execute(f"DELETE FROM {fact} WHERE application_id IN (SELECT id FROM ind_refresh)")
        rows = self.load_facts(
            "a.id IN (SELECT id FROM ind_refresh)", "t.application_id IN (SELECT id FROM ind_refresh)"
        )
        rows += self.mark_person_duplicates(lo, hi)
        self.execute(
            f"DELETE FROM {_t(IndicatorCell)} WHERE version_id = %s AND year BETWEEN %s AND %s",
            [version.pk, lo, hi],
        )
        rows += self.insert_cells(version.pk, lo, hi)
        self.execute("DROP TABLE IF EXISTS ind_refresh")
        self.years = list(range(lo, hi + 1))
        return rows
