"""The attack of the disclosure issue, run against the published release: an analyst collects every figure
the catalogue gives them (the same reports as the pages, charts, exports and API) for every measure, every
year range, every one- and two-way breakdown and filters, writes the identities the true counts obey
(years add up, decided = accredited + not accredited, cells add up to their totals, a filter is a part of
the whole) and solves them with a linear program for each figure whose true count is 1 to k-1.

The unknowns are the true counts of the finest cells (year of receipt, year of decision, outcome, sex, age
group, nationality, institution): every published figure is the sum of some of them, known to the attacker.
With the cell key method each published value only bounds its true count (within the published maximum
deviation), so a hidden count must stay undetermined. The control run shows the attack has teeth: the same
figures published exactly with only the small ones hidden (the old suppression) give hidden counts away."""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from datetime import date, timedelta

import pytest
from django.http import QueryDict
from scipy.optimize import linprog
from scipy.sparse import lil_matrix

from indicators import catalogue
from indicators import services as indicator_services
from indicators.forms import Filters
from indicators.models import ApplicationFact
from records.models import Status

from .indicator_factories import application, person

K = 5
YEARS = (2022, 2023, 2024)
MEASURES = ("received", "accredited", "not_accredited", "decided")
BREAKDOWNS = [
    ("sex",),
    ("age_group",),
    ("nationality",),
    ("institution",),
    ("sex", "age_group"),
    ("sex", "nationality"),
]
FILTERED = [(("nationality",), "institution"), (("age_group",), "sex"), (("sex",), "institution")]
ATOM = ("received_year", "decided_year", "outcome", "sex", "age_group", "nationality", "institution")


def _seed(cast, n: int = 200) -> None:
    rng = random.Random(2026)
    for i in range(n):
        received = date(rng.choice(YEARS), 1, 1) + timedelta(days=rng.randrange(330))
        status = rng.choices([Status.ACCREDITED, Status.NOT_ACCREDITED, Status.SUBMITTED], weights=[6, 2, 1])[0]
        decided = received + timedelta(days=rng.randrange(3, 40)) if status != Status.SUBMITTED else None
        institution = cast.institution_a if rng.random() < 0.7 else cast.institution_b
        application(
            institution=institution,
            person=person(institution, f"attack-{i}"),
            received_on=received,
            status=status,
            decided_on=decided,
            sex=rng.choices(["F", "M"], weights=[3, 1])[0],
            age=rng.choice([9, 15, 16, 17, 22, 25, 30, 34, 41, 55]),
            nationalities=[rng.choices(["CR", "NI", "VE", "CO", "HN", "PA"], weights=[8, 6, 2, 1, 1, 1])[0]],
        )
    indicator_services.recompute_full()


def _atoms() -> dict[tuple, int]:
    counts: dict[tuple, int] = defaultdict(int)
    for row in ApplicationFact.objects.values_list(*ATOM):
        counts[row] += 1
    return dict(counts)


def _in_measure(atom: dict, measure: str, year_from: int, year_to: int) -> bool:
    if measure == "received":
        return year_from <= atom["received_year"] <= year_to
    outcomes = {"accredited": {"A"}, "not_accredited": {"N"}, "decided": {"A", "N"}}[measure]
    return (
        atom["outcome"] in outcomes
        and atom["decided_year"] is not None
        and year_from <= atom["decided_year"] <= year_to
    )


def _collect(user) -> list[tuple[frozenset, str, int]]:
    """Every figure of the releases listed above as (the atoms it sums, its display text, its true count)."""
    atoms = _atoms()
    named = [dict(zip(ATOM, key, strict=True)) for key in atoms]
    keys = list(atoms)
    figures = []

    def add(condition: dict, display: str) -> None:
        members = frozenset(
            i
            for i, atom in enumerate(named)
            if _in_measure(atom, condition["measure"], condition["from"], condition["to"])
            and all(atom[d] == code for d, code in condition["codes"].items())
        )
        figures.append((members, display, sum(atoms[keys[i]] for i in members)))

    # Each year, two overlapping spans and the whole span: enough for every year-range difference of the issue.
    ranges = [(y, y) for y in YEARS] + [(YEARS[0], YEARS[1]), (YEARS[1], YEARS[2]), (YEARS[0], YEARS[-1])]
    for measure, (year_from, year_to) in itertools.product(MEASURES, ranges):
        filters = Filters(year_from=year_from, year_to=year_to)
        base = {"measure": measure, "from": year_from, "to": year_to}
        by_year = catalogue.build("measure-by-year", user, filters, QueryDict(f"measure={measure}"))
        for year, row in zip(by_year.table.row_keys, by_year.table.cells, strict=True):
            add({**base, "from": year, "to": year, "codes": {}}, row[0].display)
        add({**base, "codes": {}}, by_year.table.col_totals[0].display)
        cases = [(dims, {}) for dims in BREAKDOWNS]
        cases += [(dims, {name: code}) for dims, name in FILTERED for code in _codes_of(name, named)]
        for dims, fixed in cases:
            query = QueryDict(mutable=True)
            query["measure"] = measure
            query.setlist("dims", list(dims))
            institution = fixed.get("institution")
            values = {k: v for k, v in fixed.items() if k != "institution"}
            report = catalogue.build(
                "breakdown",
                user,
                Filters(year_from=year_from, year_to=year_to, institution=institution, values=values),
                query,
            )
            table = report.table
            col_dim = dims[-1] if len(dims) > 1 else None
            for key, cells, row_total in zip(table.row_keys, table.cells, table.row_totals, strict=True):
                if col_dim is None:
                    add({**base, "codes": {**fixed, dims[0]: key}}, cells[0].display)
                    continue
                for col, cell in zip(table.col_keys, cells, strict=True):
                    add({**base, "codes": {**fixed, dims[0]: key, col_dim: col}}, cell.display)
                add({**base, "codes": {**fixed, dims[0]: key}}, row_total.display)
            if col_dim is not None:
                for col, cell in zip(table.col_keys, table.col_totals, strict=True):
                    add({**base, "codes": {**fixed, col_dim: col}}, cell.display)
                add({**base, "codes": fixed}, table.grand_total.display)
            else:
                add({**base, "codes": fixed}, table.col_totals[0].display)
    return figures


def _codes_of(name: str, named: list[dict]) -> list[str]:
    return sorted({atom[name] for atom in named})


def _determined(figures, *, variables: int, deviation: int) -> list[tuple[frozenset, int]]:
    """The hidden figures (true count 1 to k-1) whose true count the published bounds pin to one value."""
    bounds = []
    for members, display, _true in figures:
        if display == "0":
            low, high = 0, 0
        elif display.startswith("<"):
            low, high = 1, K - 1 + deviation
        else:
            value = int(display)
            low, high = max(1, value - deviation), value + deviation
        bounds.append((members, low, high))
    matrix = lil_matrix((2 * len(bounds), variables))
    limits = []
    for row, (members, low, high) in enumerate(bounds):
        for i in members:
            matrix[2 * row, i] = 1
            matrix[2 * row + 1, i] = -1
        limits += [high, -low]
    matrix = matrix.tocsr()
    targets = {members: true for members, display, true in figures if 0 < true < K and display.startswith("<")}
    found = []
    for members, true in targets.items():
        objective = [1 if i in members else 0 for i in range(variables)]
        low = linprog(objective, A_ub=matrix, b_ub=limits, bounds=(0, None), method="highs")
        high = linprog([-c for c in objective], A_ub=matrix, b_ub=limits, bounds=(0, None), method="highs")
        assert low.status == 0 and high.status == 0  # the truth is feasible, so the program is
        if math.ceil(low.fun - 1e-6) == math.floor(-high.fun + 1e-6):
            found.append((members, true))
    return found


@pytest.mark.django_db
def test_no_hidden_count_can_be_determined_from_everything_an_analyst_can_collect(cast, settings):
    settings.DISCLOSURE_K = K
    _seed(cast)
    figures = _collect(cast.analyst_a)
    variables = len(_atoms())
    hidden = [f for f in figures if 0 < f[2] < K]
    assert len(hidden) > 50  # the release is full of small counts: the attack has material
    assert _determined(figures, variables=variables, deviation=settings.DISCLOSURE_MAX_DEVIATION) == []

    # Control: the same figures published exactly, small ones hidden (the old method without its
    # complements): the same solver recovers hidden counts, so the attack above is a real one.
    exact = _collect(cast.coordinator_a)
    suppressed = [(members, display if not 0 < int(display) < K else f"<{K}", true) for members, display, true in exact]
    assert _determined(suppressed, variables=variables, deviation=0)
