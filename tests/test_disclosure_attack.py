"""The attack of the disclosure issue, run against the published release: an analyst collects every figure
the catalogue gives them (the same reports as the pages, charts, exports and API) for every measure (the
application counts and the distinct accredited persons), every year range, every one- and two-way breakdown
(single-valued dimensions and the multi-valued form of exploitation) and filters, writes the identities the
true counts obey and solves them with a linear program for each figure whose true count is 1 to k-1.

The model (the unknowns, and why every figure is a known linear function of them):

* A **unit** is what the counts are made of: an accredited person in one year of decision (the person's
  accredited applications decided that year, recognised by ``person_ref``, so also across institutions),
  or one application that is not accredited (open, withdrawn, not accredited). Each application is described
  by its year of receipt, year of decision, outcome, sex, age group, nationality, institution and its *set*
  of forms of exploitation (decoded from ``exploitation_form_mask``).
* The unknowns are the numbers of units of each **pattern** (the multiset of its applications'
  descriptions) that occurs in the data. A figure counting applications is the sum over patterns of
  (how many of the pattern's applications fall in the cell) x (its number of units); a figure counting
  persons is the sum of the units with *at least one* accredited application in the cell in that year (a
  person counts once per year and cell, and once in each year of a range). So a person with two applications
  counts twice in "accredited" and once in "persons"; a person whose two applications record ages in two
  groups counts once in each age group but once in the year's total. An application with two forms counts
  under each form, the "not recorded" form cell holds the applications without any, and the cells of a form
  breakdown add up to at least the cases, not to them.
* A total is a cell of its own (issue 15: the same total is the same figure on every page): a breakdown's
  grand total is the measure within the filters, a row or column total the one-way cell of that value, so
  the total of a form breakdown counts each case once, not once per form, and a persons total by sex counts
  a person once a year. Every such figure is the same linear function of the unknowns, so the attacker needs
  none of the identities written out: persons <= accredited applications in every cell, persons of a range of
  years = the sum of each year's, a form cell <= the total, decided = accredited + not accredited, filter =
  part of the whole all follow from the model.
* The attacker is granted which patterns occur (not how often): that is more than any analyst knows, so a
  count left undetermined here is undetermined for them too. The model is checked against the portal: every
  figure's true value under the model equals the coordinator's exact figure.

With the cell key method each published value v only bounds its true count n: n - min(D, n - 1) <= v <=
n + D (the published perturbation table), and "<k" means 1 <= n <= k - 1 + D. A hidden count must stay
undetermined. The control run shows the attack has teeth, in each part (applications over single-valued
dimensions, persons, forms): the same figures published exactly with only the small ones hidden (the old
suppression) give hidden counts away."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter, defaultdict
from datetime import date, timedelta

import numpy as np
import pytest
from django.http import QueryDict
from scipy.optimize import linprog
from scipy.sparse import csr_matrix, vstack

from indicators import catalogue
from indicators import services as indicator_services
from indicators.disclosure import KEY_MODULUS
from indicators.forms import Filters
from indicators.models import ApplicationFact, MaskBit, PersonKey, RecordKey
from records.models import Status

from .indicator_factories import application, person

K = 5
YEARS = (2022, 2023, 2024)
PERSONS = "accredited_persons"
FORM = "exploitation_form"
MEASURES = ("received", "accredited", "not_accredited", "decided", PERSONS)
BREAKDOWNS = [
    ("sex",),
    ("age_group",),
    ("nationality",),
    ("institution",),
    ("sex", "age_group"),
    ("sex", "nationality"),
    (FORM,),
    ("sex", FORM),
    ("institution", FORM),
]
FILTERED = [
    (("nationality",), "institution"),
    (("age_group",), "sex"),
    (("sex",), "institution"),
    (("sex",), FORM),
    ((FORM,), "institution"),
]
ATOM = ("received_year", "decided_year", "outcome", "sex", "age_group", "nationality", "institution")
FORMS = ("SEXUAL", "LABOUR", "SERVITUDE", "BEGGING", "MARRIAGE")
# The parts of the release the control must break: applications over single-valued dimensions, persons, forms.
PARTS = ("applications", "persons", "forms")


# The seeds of the record keys of the attacked releases (see _fixed_keys). Each is one draw the portal could
# have made. Seed 5 is the release where, with a maximum deviation of 4, the program pinned a hidden count of 1
# (a figure of 14 published as 12 over patterns counted three times, under six hidden cells known to be at
# least 1); with the published D = 6 nothing is pinned. The slow run attacks twenty draws.
KEY_SEEDS = [1, 5, *(pytest.param(seed, marks=pytest.mark.slow) for seed in range(2, 21) if seed != 5)]


def _seed(cast, key_seed: int, n: int = 160) -> None:
    """About 230 applications of 160 persons: a quarter of them with two or three applications (some decided
    the same year, some referred again by the other institution under the same person key), most
    applications with one form of exploitation, a third with two or three, a few with none."""
    rng = random.Random(2026)
    for i in range(n):
        first = date(rng.choice(YEARS), 1, 1) + timedelta(days=rng.randrange(330))
        sex = rng.choices(["F", "M"], weights=[3, 1])[0]
        age = rng.choice([9, 15, 16, 17, 22, 25, 30, 34, 41, 55])
        nationality = rng.choices(["CR", "NI", "VE", "CO", "HN", "PA"], weights=[8, 6, 2, 1, 1, 1])[0]
        home = cast.institution_a if rng.random() < 0.7 else cast.institution_b
        people = {home: person(home, f"attack-{i}")}
        applications = rng.choices([1, 2, 3], weights=[12, 3, 1])[0]
        received = first
        for j in range(applications):
            institution = home if j == 0 or rng.random() < 0.6 else rng.choice([cast.institution_a, cast.institution_b])
            if institution not in people:
                people[institution] = person(institution, f"attack-{i}")
            status = rng.choices([Status.ACCREDITED, Status.NOT_ACCREDITED, Status.SUBMITTED], weights=[6, 2, 1])[0]
            decided = received + timedelta(days=rng.randrange(3, 40)) if status != Status.SUBMITTED else None
            if received.year > YEARS[-1]:
                break
            application(
                institution=institution,
                person=people[institution],
                received_on=received,
                status=status,
                decided_on=decided,
                sex=sex,
                age=age + (1 if j and rng.random() < 0.5 else 0),
                nationalities=[nationality],
                forms=rng.sample(FORMS, rng.choices([0, 1, 2, 3], weights=[1, 12, 5, 2])[0]),
            )
            received += timedelta(days=rng.randrange(20, 300))
    indicator_services.recompute_full()
    _fixed_keys(key_seed)


def _fixed_keys(seed: int) -> None:
    """Give every record and person a record key from a seeded generator (the recompute draws them with the
    database's RANDOM(), different in every run) and recompute, so that the release attacked is the same in
    every run and on both databases, and a result can be reproduced. Keys are never redrawn by the portal; a
    test may set them because it plays the part of the one draw."""
    keys = random.Random(seed)
    records = list(RecordKey.objects.order_by("application_id"))
    for record in records:
        record.key = keys.randrange(KEY_MODULUS)
    RecordKey.objects.bulk_update(records, ["key"])
    persons = list(PersonKey.objects.order_by("person_id"))
    for each in persons:
        each.key = keys.randrange(KEY_MODULUS)
    PersonKey.objects.bulk_update(persons, ["key"])
    indicator_services.recompute_full()


def _units() -> Counter:
    """The number of units of each pattern (see the module's docstring): a pattern is the sorted tuple of its
    applications, each ATOM's values followed by the sorted tuple of its forms."""
    bits = dict(MaskBit.objects.filter(dimension=FORM).values_list("bit", "code"))
    groups: dict[tuple, list] = defaultdict(list)
    rows = ApplicationFact.objects.values_list("application_id", "person_ref", *ATOM, f"{FORM}_mask")
    for application_id, person_ref, *atom, mask in rows:
        described = (*atom, tuple(sorted(code for bit, code in bits.items() if mask & bit)))
        described = dict(zip((*ATOM, FORM), described, strict=True))
        unit = ("person", person_ref, described["decided_year"]) if described["outcome"] == "A" else application_id
        groups[unit].append(tuple(sorted(described.items())))
    return Counter(tuple(sorted(apps)) for apps in groups.values())


def _in_measure(app: dict, measure: str, year: int) -> bool:
    if measure == "received":
        return app["received_year"] == year
    outcomes = {"accredited": {"A"}, PERSONS: {"A"}, "not_accredited": {"N"}, "decided": {"A", "N"}}[measure]
    return app["outcome"] in outcomes and app["decided_year"] == year


def _matches(app: dict, codes: dict) -> bool:
    for name, code in codes.items():
        if name == FORM:
            if (code not in app[FORM]) if code else app[FORM]:
                return False
        elif app[name] != code:
            return False
    return True


class Release:
    """The unknowns of a seeded release and the linear function of them that each published cell is."""

    def __init__(self):
        self.units = _units()
        self.patterns = [[dict(app) for app in pattern] for pattern in self.units]
        self.sizes = [self.units[pattern] for pattern in self.units]
        self._cache: dict[tuple, dict[int, int]] = {}

    def cell(self, measure: str, year_from: int, year_to: int, codes: dict) -> dict[int, int]:
        """{unknown: coefficient} of a cell over a range of years: the sum of each year's (for persons too)."""
        total: dict[int, int] = defaultdict(int)
        for year in range(year_from, year_to + 1):
            for i, c in self._year(measure, year, tuple(sorted(codes.items()))).items():
                total[i] += c
        return dict(total)

    def _year(self, measure: str, year: int, codes: tuple) -> dict[int, int]:
        key = (measure, year, codes)
        if key not in self._cache:
            wanted = dict(codes)
            vector = {}
            for i, apps in enumerate(self.patterns):
                inside = sum(1 for app in apps if _in_measure(app, measure, year) and _matches(app, wanted))
                if inside:
                    vector[i] = 1 if measure == PERSONS else inside
            self._cache[key] = vector
        return self._cache[key]

    def value(self, vector: dict[int, int]) -> int:
        return sum(c * self.sizes[i] for i, c in vector.items())

    def codes_of(self, name: str) -> list[str]:
        if name == FORM:
            return sorted({code for apps in self.patterns for app in apps for code in app[FORM] or ("",)})
        return sorted({app[name] for apps in self.patterns for app in apps})


def _sum(vectors) -> dict[int, int]:
    total: dict[int, int] = defaultdict(int)
    for vector in vectors:
        for i, c in vector.items():
            total[i] += c
    return dict(total)


def _collect(user, release: Release) -> list[tuple[dict, str, int, str]]:
    """Every figure of the releases listed above as (its vector over the unknowns, its display text, its true
    count, the part of the release it belongs to)."""
    figures = []

    def add(vector: dict, display: str, part: str) -> dict:
        figures.append((vector, display, release.value(vector), part))
        return vector

    # Each year, two overlapping spans and the whole span: enough for every year-range difference of the issue.
    ranges = [(y, y) for y in YEARS] + [(YEARS[0], YEARS[1]), (YEARS[1], YEARS[2]), (YEARS[0], YEARS[-1])]
    for measure, (year_from, year_to) in itertools.product(MEASURES, ranges):
        plain = "persons" if measure == PERSONS else "applications"
        by_year = catalogue.build(
            "measure-by-year", user, Filters(year_from=year_from, year_to=year_to), QueryDict(f"measure={measure}")
        )
        years = [
            add(release.cell(measure, year, year, {}), row[0].display, plain)
            for year, row in zip(by_year.table.row_keys, by_year.table.cells, strict=True)
        ]
        add(_sum(years), by_year.table.col_totals[0].display, plain)
        cases = [(dims, {}) for dims in BREAKDOWNS]
        cases += [(dims, {name: code}) for dims, name in FILTERED for code in release.codes_of(name)]
        for dims, fixed in cases:
            part = "forms" if FORM in dims or FORM in fixed else plain
            query = QueryDict(mutable=True)
            query["measure"] = measure
            query.setlist("dims", list(dims))
            institution = fixed.get("institution")
            values = {k: v for k, v in fixed.items() if k != "institution"}
            table = catalogue.build(
                "breakdown",
                user,
                Filters(year_from=year_from, year_to=year_to, institution=institution, values=values),
                query,
            ).table

            _read(
                table,
                dims,
                lambda codes, f=fixed, m=measure, r=(year_from, year_to): release.cell(m, *r, {**f, **codes}),
                lambda v, d, p=part: add(v, d, p),
            )
    return figures


def _read(table, dims, vector_of, add) -> None:
    """Every cell and total of a breakdown: a cell is the vector of its codes; a total is a cell of its own
    (the measure within the filters, the one-way cell of a row or a column), as ``catalogue`` publishes it so
    that the same total is the same figure everywhere, not the sum of the cells, which counts a person with
    two age groups, or a case with two forms, more than once."""
    if len(dims) == 1:
        for key, row in zip(table.row_keys, table.cells, strict=True):
            add(vector_of({dims[0]: key}), row[0].display)
        add(vector_of({}), table.col_totals[0].display)
        return
    for key, row in zip(table.row_keys, table.cells, strict=True):
        for col, c in zip(table.col_keys, row, strict=True):
            add(vector_of({dims[0]: key, dims[1]: col}), c.display)
    for key, total in zip(table.row_keys, table.row_totals, strict=True):
        add(vector_of({dims[0]: key}), total.display)
    for col, total in zip(table.col_keys, table.col_totals, strict=True):
        add(vector_of({dims[1]: col}), total.display)
    add(vector_of({}), table.grand_total.display)


def _bounds(display: str, deviation: int) -> tuple[int, int]:
    """What a published figure says of its true count n, knowing the perturbation table: a noise within
    -min(D, n - 1)..D, a true zero shown as 0 and nothing else shown so."""
    if display == "0":
        return 0, 0
    if display.startswith("<"):
        return 1, K - 1 + deviation
    value = int(display)
    return max(value - deviation, (value + 2) // 2), value + deviation


def _determined(figures, *, variables: int, deviation: int, parts=PARTS, enough: int | None = None):
    """The hidden figures (true count 1 to k-1) of ``parts`` whose true count the published figures pin to one
    value, as (part, the value the solver pins, the true count). With ``enough``, stop once that many are
    found (the control needs only to show some).

    Every figure bounds its vector (figures with the same vector intersect their bounds). A target is
    determined when the least and the greatest value it takes over the feasible region round to the same
    integer. Most targets are left undetermined by any two feasible points where they differ by at least one
    integer: the solutions of a few programs that push all targets at once (their sum up, their sum down,
    random signs) and of each program solved since, so the two programs per target are solved only for the
    targets those points do not settle. The verdict is the same as solving both for every target."""
    merged: dict[tuple, list[int]] = {}
    for vector, display, _true, _part in figures:
        low, high = _bounds(display, deviation)
        key = tuple(sorted(vector.items()))
        if key in merged:
            merged[key] = [max(merged[key][0], low), min(merged[key][1], high)]
        else:
            merged[key] = [low, high]

    def matrix(keys) -> csr_matrix:
        rows, cols, data = [], [], []
        for r, key in enumerate(keys):
            for i, c in key:
                rows.append(r)
                cols.append(i)
                data.append(c)
        return csr_matrix((data, (rows, cols)), shape=(len(keys), variables))

    keys = list(merged)
    a = matrix(keys)
    a_ub = vstack([a, -a]).tocsr()
    b_ub = np.array([merged[k][1] for k in keys] + [-merged[k][0] for k in keys], dtype=float)
    targets: dict[tuple, tuple[str, int]] = {}
    for vector, display, true, part in figures:
        if 0 < true < K and display.startswith("<") and part in parts:
            targets.setdefault(tuple(sorted(vector.items())), (part, true))
    order = list(targets)
    t = matrix(order)
    seen_low = np.full(len(order), np.inf)
    seen_high = np.full(len(order), -np.inf)

    def solve(objective) -> float:
        result = linprog(objective, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        assert result.status == 0  # the truth is feasible, so the program is
        values = t @ result.x
        np.minimum(seen_low, values, out=seen_low)
        np.maximum(seen_high, values, out=seen_high)
        return result.fun

    def settled(i: int) -> bool:  # two feasible points a whole unit apart: not determined
        return math.ceil(seen_low[i] - 1e-6) < math.floor(seen_high[i] + 1e-6)

    rng = np.random.default_rng(13)
    push = np.asarray(t.sum(axis=0)).ravel()
    for objective in [push, -push, *(rng.choice([-1.0, 1.0], len(order)) @ t for _ in range(4))]:
        if order:
            solve(np.asarray(objective).ravel())
    found = []
    for i, key in enumerate(order):
        if settled(i):
            continue
        objective = t[i].toarray().ravel()
        low = solve(objective)
        high = -solve(-objective)
        if math.ceil(low - 1e-6) == math.floor(high + 1e-6):
            part, true = targets[key]
            found.append((part, math.ceil(low - 1e-6), true))
            if enough is not None and len(found) >= enough:
                break
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("key_seed", KEY_SEEDS)
def test_no_hidden_count_can_be_determined_from_everything_an_analyst_can_collect(cast, settings, key_seed):
    settings.DISCLOSURE_K = K
    deviation = settings.DISCLOSURE_MAX_DEVIATION
    _seed(cast, key_seed)
    release = Release()
    # The seed has what the parts are about: persons with several accredited applications in one year, and
    # applications with several forms.
    assert sum(size for pattern, size in release.units.items() if len(pattern) > 1) > 5
    assert sum(1 for apps in release.patterns for app in apps if len(app[FORM]) > 1) > 30

    exact = _collect(cast.coordinator_a, release)
    # The model is the portal's: every figure's true value under it is the coordinator's exact figure.
    assert [display for _v, display, _t, _p in exact] == [str(true) for _v, _d, true, _p in exact]

    figures = _collect(cast.analyst_a, release)
    hidden = Counter(part for _v, display, true, part in figures if 0 < true < K and display.startswith("<"))
    assert all(hidden[part] > 50 for part in PARTS), hidden  # the release is full of small counts in each part
    assert _determined(figures, variables=len(release.sizes), deviation=deviation) == []
    if key_seed != 1:
        return  # the control below does not depend on the keys: once is enough

    # Control: the same figures published exactly, small ones hidden (the old method without its
    # complements): the same solver recovers hidden counts in each part, so the attack above is a real one.
    suppressed = [
        (vector, display if not 0 < int(display) < K else f"<{K}", true, part) for vector, display, true, part in exact
    ]
    for part in PARTS:
        given_away = _determined(suppressed, variables=len(release.sizes), deviation=0, parts=(part,), enough=3)
        assert given_away, part
        assert all(value == true for _part, value, true in given_away)
