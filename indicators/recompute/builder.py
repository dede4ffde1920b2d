# ruff: noqa: S608
# The SQL here is assembled from table names of the models, dimension names of indicators.dimensions, codes of
# the code lists (quoted by _q) and integers; every value that comes from a request or a record is a parameter.
"""Runs the SQL of one recompute (``sql.Sql``) on the current connection: the reference tables (calendar,
record keys, mask bits), the facts, the cells, and the three kinds of recompute (full, by years, by the
difference of applications)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial

from django.db import connection

from records import deadlines
from records.models import Application, Code, Person, Province, Status

from .. import dimensions as dims
from ..disclosure import KEY_MODULUS
from ..models import BusinessDay, IndicatorVersion, MaskBit, PersonKey, RecordKey
from .sql import (
    _COUNT,
    _DAYS,
    _DUPS,
    _KEY_SUMS,
    Source,
    Sql,
    _grouping_mask,
    _ints,
    _key_sum,
    _Kind,
    _pass_cost,
    _q,
    _t,
)


class Builder(Sql):
    """Generates and runs the SQL of one recompute on the current connection."""

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

    def sum_jobs(self, version: int, source: Source) -> list[tuple[int, Callable[[], int]]]:
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

    def _insert_base(self, version: int, kind: _Kind, base_members, source: Source, aggregates) -> int:
        base, members = base_members
        group_cols = [*kind.group, *base]
        pre = (
            f"SELECT {', '.join(f'r.{c}' for c in group_cols)}, COUNT(*) AS n, SUM(r.pf) AS p, "
            f"SUM(r.w) AS w, {_KEY_SUMS} FROM ({self._rows_sql(source, base, kind.where)}) r "
            f"GROUP BY {', '.join(f'r.{c}' for c in group_cols)}"
        )
        return self._insert(version, kind, members, pre, aggregates, "y.")

    def _insert_pass(self, version: int, kind: _Kind, bases, source: Source, aggregates: dict[str, str]) -> int:
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

    def cells_direct(self, version: int, kind: _Kind, sets, source: Source, *, sign: int = 1, distinct: bool) -> int:
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

    def build_cells(self, version: int, source: Source) -> int:
        rows = self.dups_job(version)()
        return rows + sum(job() for _, job in self.sum_jobs(version, source))

    def dups_job(self, version: int) -> Callable[[], int]:
        """The cells of the persons counted twice (``ind_dups``, a temporary table of this session)."""
        return partial(self.cells_direct, version, _DUPS, dims.CELL_SETS, Source("ind_dups", self.value), distinct=True)

    # ---- the three kinds of recompute
    def year_span(self) -> list[int]:
        lo = self.scalar(f"SELECT MIN(received_year) FROM {self.fact}")
        hi = self.scalar(f"SELECT MAX(COALESCE(decided_year, received_year)) FROM {self.fact}")
        return [] if lo is None else list(range(int(lo), int(hi) + 1))

    def full(self, *, version: IndicatorVersion) -> int:
        rows = self.all_facts()
        rows += self.build_cells(version.pk, Source(self.fact, self.value))
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
        rows += self.build_cells(version.pk, Source(self.fact, self.value, touched))
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
        new = Source(f"(SELECT * FROM {fact} WHERE application_id IN {refresh})", self.value)
        old = Source("ind_old", "ind_old_values")
        for sign, source in ((-1, old), (1, new)):
            rows += self.cells_direct(version.pk, _COUNT, dims.CELL_SETS, source, sign=sign, distinct=True)
            rows += self.cells_direct(version.pk, _DAYS, dims.TIMELINESS_SETS, source, sign=sign, distinct=False)
        for name in ("ind_old", "ind_old_values", "ind_refresh"):
            self.execute(f"DROP TABLE IF EXISTS {name}")
        return rows

    def _fetch(self, sql: str) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
