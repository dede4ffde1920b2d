# ruff: noqa: S608
# The SQL here is assembled from table names of the models and integers (years of the outbox).
"""Which build a recompute of the outbox runs: the incremental one (the difference of the marked applications
and the rebuild of the marked years) or a full rebuild, whichever is estimated to take less time.

Both give the same cells (tests compare them), so the choice is only about time. A difference costs little per
application; marked years rewrite every fact of those years and re-aggregate them in one transaction on one
connection, so years that hold most facts cost as much as a full rebuild, which shares the same work among
``INDICATORS_BUILD_CONNECTIONS`` connections (issue 19: an import touching six of eleven years took 10.7 s
against 4-6 s for a full rebuild at 50,000 applications).

The estimate is a linear model in seconds of an idle machine, measured with ``bench/small_import.py`` and the
statement profile of the builder at 50,000 applications on PostgreSQL (docs/PERFORMANCE.md, "Choosing the
build"). Only the comparison matters, so the same constants serve SQLite and other machines.
"""

from __future__ import annotations

from dataclasses import dataclass

from .builder import Builder
from .sql import _ints

DIFFERENCE_FIXED = 0.12  # a difference's ~50 cell statements over a handful of applications
DIFFERENCE_PER_APPLICATION = 0.0013  # each marked application (its old and new cells, its persons' others)
YEARS_FIXED = 0.2  # a rebuild of some years: deleting their cells, the cell passes over few facts
FULL_FIXED = 0.3  # a full rebuild: calendar, keys, emptied tables, statistics, the swap, the old cells dropped
PER_FACT = 0.0002  # each fact written and re-aggregated, on one connection (years and full alike)


@dataclass(frozen=True)
class Estimate:
    incremental: float
    full: float

    @property
    def full_is_cheaper(self) -> bool:
        return self.full < self.incremental


def estimate_from(*, facts: int, facts_in_years: int, applications: int, years: bool, connections: int) -> Estimate:
    """The model: ``facts`` in the table, ``facts_in_years`` of them in the marked years, ``applications``
    marked one by one; a full rebuild shares its per-fact work among ``connections``."""
    incremental = 0.0
    if applications:
        incremental += DIFFERENCE_FIXED + DIFFERENCE_PER_APPLICATION * applications
    if years:
        incremental += YEARS_FIXED + PER_FACT * facts_in_years
    full = FULL_FIXED + PER_FACT * facts / max(1, connections)
    return Estimate(incremental=round(incremental, 3), full=round(full, 3))


def estimate(builder: Builder, *, application_ids: list[int], years: list[int], connections: int) -> Estimate:
    """The estimate of these marks, from the facts as they are (one scan of the fact table)."""
    in_years = _ints(years)
    facts, facts_in_years = builder._fetch(
        f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN received_year IN ({in_years}) OR decided_year IN ({in_years}) "
        f"THEN 1 ELSE 0 END), 0) FROM {builder.fact}"
    )[0]
    return estimate_from(
        facts=int(facts),
        facts_in_years=int(facts_in_years),
        applications=len(application_ids),
        years=bool(years),
        connections=connections,
    )
