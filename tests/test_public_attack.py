"""The attack of the disclosure issue against the public statistics page: an outsider collects every figure of
the public tables (and so of their CSV files, which hold exactly the same rows): the key figures by year
with their totals over the years, the tables by year of sex, children and adults, forms of exploitation and
regions of nationality with all their totals, and the province map; writes the identities the true counts
obey (a total is the sum of its cells, a range the sum of its years, a group the sum of its codes) and
solves them with a linear program for every figure whose true count is 1 to k-1 at the public k.

The model, the seed and the solver are tests/test_disclosure_attack.py's (the GLOTIP victim group added to
what describes an application, for the children/adults table). The control publishes the same figures exactly
with only the small ones hidden and shows that the same solver then gives hidden counts away."""

from __future__ import annotations

import pytest

from indicators import disclosure, public
from tests import test_disclosure_attack as attack
from tests.report_data import reset_report_caches

PUBLIC_K = 10
PERSONS = attack.PERSONS


def _collect(release: attack.Release) -> list[tuple[dict, str, int, str]]:
    """Every figure of the public tables as (its vector over the unknowns, its display text, its true count,
    the part of the release it belongs to)."""
    figures = []
    built = public.release()

    def add(vector: dict, display: str, part: str) -> dict:
        figures.append((vector, display, release.value(vector), part))
        return vector

    def read_grid(table, vector_of, part: str, year_total=None) -> None:
        """``year_total(year)``: the vector of a column's total where the table publishes the measure's own
        figure of the year (a table through the catalogue, issue 15), not the sum of its cells."""
        grid = [
            [add(vector_of(row, col), cell.display, part) for col, cell in zip(table.col_keys, cells, strict=True)]
            for row, cells in zip(table.row_keys, table.cells, strict=True)
        ]
        for vectors, total in zip(grid, table.row_totals, strict=True):
            if total.status != disclosure.BLANK:
                add(attack._sum(vectors), total.display, part)
        totals = []
        for j, total in enumerate(table.col_totals):
            vector = year_total(table.col_keys[j]) if year_total else attack._sum(row[j] for row in grid)
            totals.append(vector)
            if total.status != disclosure.BLANK:
                add(vector, total.display, part)
        if table.grand_total.status != disclosure.BLANK:
            whole = attack._sum(totals) if year_total else attack._sum(v for row in grid for v in row)
            add(whole, table.grand_total.display, part)

    # Key figures: measures by year, each with its total over the years.
    headline = built.table("public-headline").report.table
    read_grid(
        headline,
        lambda measure, year: release.cell(measure, year, year, {}),
        "applications",
    )

    def by_codes(dimension: str, group_of):
        codes = release.codes_of(dimension)

        def vector(group, year):
            return attack._sum(release.cell(PERSONS, year, year, {dimension: c}) for c in codes if group_of(c) == group)

        return vector

    def persons_of(year):
        return release.cell(PERSONS, year, year, {})

    read_grid(built.table("public-sex").report.table, by_codes("sex", lambda c: c), "persons", persons_of)
    read_grid(
        built.table("public-exploitation-form").report.table, by_codes(attack.FORM, lambda c: c), "forms", persons_of
    )
    read_grid(
        built.table("public-child-adult").report.table,
        by_codes("victim_group", lambda c: public.CHILD_ADULT.get(c, "")),
        "persons",
    )
    read_grid(
        built.table("public-nationality-region").report.table,
        by_codes("nationality", public._region_of),
        "persons",
    )
    # The province map: all years; the seed records no residence, so every person is under "not recorded".
    years = built.years
    province = built.table("public-province-map").report.table
    cells = [
        add(
            attack._sum(release.cell(PERSONS, y, y, {}) for y in years) if key == "" else {},
            row[0].display,
            "persons",
        )
        for key, row in zip(province.row_keys, province.cells, strict=True)
    ]
    add(attack._sum(cells), province.col_totals[0].display, "persons")
    return figures


@pytest.mark.django_db
def test_no_hidden_public_count_can_be_determined_from_the_public_tables(cast, settings, monkeypatch):
    settings.DISCLOSURE_K = attack.K
    settings.DISCLOSURE_K_PUBLIC = PUBLIC_K
    deviation = settings.DISCLOSURE_MAX_DEVIATION
    # The attack module's bounds and targets read its K: the public one here.
    monkeypatch.setattr(attack, "K", PUBLIC_K)
    monkeypatch.setattr(attack, "ATOM", (*attack.ATOM, "victim_group"))
    attack._seed(cast, 1)
    release = attack.Release()

    # The model is the portal's: the public tables published exactly give every figure's true value under it.
    protect_count = disclosure.protect_count
    with monkeypatch.context() as exact:
        exact.setattr(disclosure, "protect_count", lambda n, *, k=None, exact=False: protect_count(n, k=k, exact=True))
        reset_report_caches()
        truth = _collect(release)
    assert [display for _v, display, _t, _p in truth] == [str(true) for _v, _d, true, _p in truth]

    reset_report_caches()
    figures = _collect(release)
    hidden = [(display, true) for _v, display, true, _p in figures if 0 < true < PUBLIC_K and display.startswith("<")]
    assert len(hidden) >= 15, hidden  # the public tables hold small counts
    assert all(display == f"<{PUBLIC_K}" for display, _true in hidden)
    assert attack._determined(figures, variables=len(release.sizes), deviation=deviation) == []

    # Control: the same figures published exactly, small ones hidden: the same solver recovers hidden counts.
    suppressed = [
        (vector, str(true) if not 0 < true < PUBLIC_K else f"<{PUBLIC_K}", true, part)
        for vector, _display, true, part in figures
    ]
    given_away = _determined_any(suppressed, variables=len(release.sizes))
    assert given_away
    assert all(value == true for _part, value, true in given_away)


def _determined_any(figures, *, variables: int):
    return attack._determined(figures, variables=variables, deviation=0, enough=3)
