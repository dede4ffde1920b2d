# ruff: noqa: S608
# The SQL here is assembled from table names of the models, dimension names of indicators.dimensions, codes of
# the code lists (quoted by _q) and integers; every value that comes from a request or a record is a parameter.
"""The SQL text of the recompute: the expressions of the facts, the masks, the bridge rows and the cells.

Nothing here runs a statement on the records (``Builder`` in ``builder.py`` runs them): ``Sql`` returns text, so
a test can read what a recompute would run. The age groups are read from their code list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import connection, models

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

from .. import dimensions as dims
from ..disclosure import KEY_MODULUS
from ..models import (
    ApplicationFact,
    ApplicationFactValue,
    BusinessDay,
    IndicatorCell,
    MaskBit,
    PersonKey,
    RecordKey,
)

ADULT_AGE = 18

DECIDED = (Status.ACCREDITED, Status.NOT_ACCREDITED)
OPEN = (Status.SUBMITTED, Status.UNDER_REVIEW, Status.INFO_REQUESTED)


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _m2m(field_name: str) -> str:
    field = Application._meta.get_field(field_name)
    assert isinstance(field, models.ManyToManyField), field_name  # noqa: S101 - a programming error
    through = field.remote_field.through
    assert through is not None  # noqa: S101
    return connection.ops.quote_name(through._meta.db_table)


def _q(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _ints(values: Iterable[int]) -> str:
    return ", ".join(str(int(v)) for v in values) or "NULL"


def _age_group_case(column: str) -> str:
    """A CASE expression placing an age in the age_group code list by the bounds in its codes ("0-11", "60+")."""
    parts: list[tuple[int, int | None, str]] = []
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
    for low, high, code in sorted(parts):
        condition = f"{column} >= {low}" + (f" AND {column} <= {high}" if high is not None else "")
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
class Source:
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


class Sql:
    """The SQL text of one recompute for the current connection's database (PostgreSQL or SQLite)."""

    def __init__(self, *, today: date):
        self.today = today
        self.postgres = connection.vendor == "postgresql"
        self.country = settings.PORTAL_COUNTRY
        self.years: list[int] = []
        self.fact = _t(ApplicationFact)
        self.value = _t(ApplicationFactValue)
        self.cell = _t(IndicatorCell)

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
        columns = self._fact_columns()
        names = ", ".join(columns)
        values = ",\n".join(f"{expr} AS {name}" for name, expr in columns.items())
        return f"INSERT INTO {target} ({names}) SELECT {values} {self._fact_joins(scope, mask_scope)}"

    def _fact_columns(self) -> dict[str, str]:
        """Each fact column and its expression over the joins of ``_fact_joins``."""
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
        return columns

    def _fact_joins(self, scope: str, mask_scope: str) -> str:
        """The FROM, joins and WHERE of the facts of the submitted applications in ``scope``."""
        code, district, canton = _t(Code), _t(District), _t(Canton)
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
        return joins

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

    # ---- cells
    def _rows_sql(self, source: Source, used: Iterable[str], where: str = "1=1") -> str:
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
