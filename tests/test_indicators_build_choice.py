"""The recompute chooses between its incremental build and a full rebuild by their estimated cost (issue 19)."""

from __future__ import annotations

import pytest

from indicators import selectors, services
from indicators.models import RecomputeRun
from indicators.recompute import cost
from records.imports import parsing, samples
from records.imports import services as imports

pytestmark = pytest.mark.django_db


def _import(cast, count: int, *, prefix: str = "EXP"):
    # Submitted, so they reach the indicators (the sample's rows are drafts).
    rows = [dict(row, estado="SUBMITTED") for row in samples.sample_rows(count, prefix=prefix)]
    return imports.import_rows(
        parsed=parsing.open_parsed(samples.to_csv(rows), name="data.csv"),
        institution=cast.institution_a,
        user=cast.officer_a,
        write=True,
    )


def _figures() -> dict:
    return {
        "received": selectors.measure_by_year(measure="received"),
        "by_sex": selectors.crosstab(measure="received", dims=["sex"]),
        "by_form": selectors.crosstab(measure="received", dims=["exploitation_form"]),
    }


def test_an_imported_difference_gives_the_cells_of_a_full_rebuild(cast):
    _import(cast, 8)
    services.recompute_full()
    _import(cast, 4, prefix="NEW")
    run = services.recompute_pending(trigger="test")
    assert run.kind == RecomputeRun.Kind.INCREMENTAL and run.outcome == RecomputeRun.Outcome.SUCCESS
    difference = _figures()
    assert sum(difference["received"].values()) == 12
    services.recompute_full()
    assert _figures() == difference


def test_the_estimate_at_50000_applications():
    """The cases of issue 19 at 50,000 applications over eleven years, two build connections."""

    def full_is_cheaper(**marks) -> bool:
        return cost.estimate_from(facts=50000, connections=2, **marks).full_is_cheaper

    # A 40-row import marks its applications: their difference.
    assert not full_is_cheaper(facts_in_years=0, applications=40, years=False)
    # The same import marked by its six years (30,000 facts): a full rebuild.
    assert full_is_cheaper(facts_in_years=30000, applications=0, years=True)
    # One year (5,000 facts): the year.
    assert not full_is_cheaper(facts_in_years=5000, applications=0, years=True)
    # Thousands of applications: a full rebuild.
    assert full_is_cheaper(facts_in_years=0, applications=5000, years=False)
    # A small database: the fixed cost of a full rebuild decides for the incremental build.
    small = cost.estimate_from(facts=10, facts_in_years=10, applications=0, years=True, connections=1)
    assert not small.full_is_cheaper


def test_marked_years_estimated_dearer_are_rebuilt_in_full(cast, monkeypatch):
    outcome = _import(cast, 10)
    services.recompute_full()
    before = _figures()
    # As in a large database, where the per-fact work outweighs the fixed costs (above).
    monkeypatch.setattr(cost, "FULL_FIXED", 0)
    services.recompute_mark_dirty(years=outcome.years)
    run = services.recompute_pending(trigger="test")
    assert run.kind == RecomputeRun.Kind.FULL and run.outcome == RecomputeRun.Outcome.SUCCESS
    assert _figures() == before
    monkeypatch.undo()
    services.recompute_mark_dirty(years=outcome.years)
    assert services.recompute_pending(trigger="test").kind == RecomputeRun.Kind.INCREMENTAL
    assert _figures() == before
