"""Trends (issue 15, points 1 and 12): a measure by year for any dimension or pair, and the key figures by year,
each with the change from the previous year, on the page, in its chart data, its CSV/XLSX and the API; all
through the report catalogue and the disclosure module.

The data (tests/report_data.py) holds values whose publication does not depend on their cell keys: one
accredited person of Panamanian nationality in 2025 (a true 1 is always published as 1, so always "<5") and
two applications from Venezuela in 2024 (a true 2 is published as 1 to 3: always "<5")."""

from __future__ import annotations

import io
import math
import re

import pytest
from django.http import QueryDict
from django.urls import reverse
from openpyxl import load_workbook
from scipy.optimize import linprog

from indicators import catalogue, disclosure, selectors
from indicators.forms import Filters
from tests.export_support import csv_table
from tests.report_data import K

YEARS = [2023, 2024, 2025]
PROFILE_KEYS = {d.key for d in catalogue.profile_dimensions()}


# The data set is recomputed once for the module (tests/conftest.py::report_data_module); each test runs in a
# savepoint of it, on one xdist worker.
pytestmark = pytest.mark.xdist_group("report_data_trends")


@pytest.fixture
def data(report_data):
    return report_data


def published(count) -> disclosure.ProtectedCell:
    return disclosure.protect_count(count, k=K)


def _query(**params) -> QueryDict:
    query = QueryDict(mutable=True)
    for name, value in params.items():
        if isinstance(value, list):
            query.setlist(name, value)
        else:
            query[name] = value
    return query


def _trend(user, dims, measure="accredited_persons", filters=None):
    return catalogue.build("trend", user, filters or Filters(), _query(dims=dims, measure=measure))


def _row(report, key) -> int:
    return report.table.row_keys.index(key)


def _csv(response) -> list[list[str]]:
    return csv_table(response.content)  # the metadata rows ("# ...") lead the file


@pytest.mark.django_db
def test_trend_values_are_the_published_per_year_cells(data):
    """Every cell of a trend is the value the disaggregation and intersection pages publish for that year
    alone; each year's total is the one those pages give; each change is the difference of two published
    values."""
    analyst = data.analyst_a
    for dims in (["sex"], ["nationality"], ["exploitation_form"], ["sex", "nationality"], ["victim_group", "means"]):
        for measure in ("accredited_persons", "received"):
            trend = _trend(analyst, dims, measure)
            assert list(trend.table.col_keys) == YEARS
            for j, year in enumerate(YEARS):
                exact = selectors.crosstab(measure=measure, dims=dims, year_from=year, year_to=year)
                # The disaggregation page for one profile dimension, the API's breakdown for a case fact (it has
                # no page of its own), the intersections page for a pair.
                one = f"dimension-{dims[0]}" if dims[0] in PROFILE_KEYS else "breakdown"
                page = catalogue.build(
                    one if len(dims) == 1 else "crosstab",
                    analyst,
                    Filters(year_from=year, year_to=year),
                    _query(dims=dims, measure=measure),
                )
                for i, key in enumerate(trend.table.row_keys):
                    codes = key if isinstance(key, tuple) else (key,)
                    cell = trend.table.cells[i][j]
                    assert cell == published(exact.get(codes, 0)), (dims, measure, year, key)
                    column = disclosure.SERIES_COLUMN if len(dims) == 1 else codes[1]
                    try:
                        assert cell == page.table.cell(codes[0], column), (dims, year, key)
                    except KeyError:  # a long list (countries) lists only the codes with a case that year
                        assert cell.display == "0", (dims, year, key)
                assert trend.table.col_totals[j] == page.table.grand_total, (dims, measure, year)
            for cells, changes in zip(trend.table.cells, trend.extra["changes"], strict=True):
                assert changes[0].display == ""
                for previous, current, change in zip(cells, cells[1:], changes[1:], strict=False):
                    if previous.hidden or current.hidden:
                        assert change.value is None and change.display == "—"
                    else:
                        assert change.value == current.value - previous.value


@pytest.mark.django_db
def test_key_figures_by_year_are_the_overviews_figures(data):
    analyst = data.analyst_a
    headline = catalogue.build("trend-headline", analyst, Filters(), QueryDict())
    overview = catalogue.build("by-year", analyst, Filters(), QueryDict())
    assert list(headline.table.row_keys) == ["received", "accredited", "accredited_persons"]
    for i, measure in enumerate(headline.table.row_keys):
        j = overview.table.col_keys.index(measure)
        assert list(headline.table.cells[i]) == [row[j] for row in overview.table.cells]
        assert headline.table.row_totals[i] == overview.table.col_totals[j]
    persons = headline.table.cells[_row(headline, "accredited_persons")]
    changes = headline.extra["changes"][_row(headline, "accredited_persons")]
    assert [c.value for c in changes[1:]] == [persons[1].value - persons[0].value, persons[2].value - persons[1].value]
    assert "Total" not in [row[0] for row in headline.export_rows()]  # the measures have no common total


@pytest.mark.django_db
def test_a_hidden_value_gives_a_hidden_change(data):
    analyst = data.analyst_a
    received = _trend(analyst, ["nationality"], "received")
    venezuela = _row(received, "VE")
    assert [c.display for c in received.table.cells[venezuela]] == ["0", f"<{K}", "0"]
    assert [c.display for c in received.extra["changes"][venezuela]] == ["", "—", "—"]
    persons = _trend(analyst, ["nationality"])
    panama = _row(persons, "PA")
    assert [c.display for c in persons.table.cells[panama]] == ["0", "0", f"<{K}"]
    assert [c.display for c in persons.extra["changes"][panama]] == ["", "0", "—"]
    # The page, its CSV and its chart data say the same.
    client = data.client_for(analyst)
    html = client.get("/reports/trends/?dims=nationality&measure=received").content.decode()
    row = re.search(r"<th scope=\"row\">Venezuela</th>(.*?)</tr>", html, re.S).group(1)
    assert re.findall(r">\s*([^<]*?)\s*(?:</a>\s*)?</td>", row) == ["0", f"&lt;{K}", "0", f"&lt;{K}", "—", "—"]
    rows = _csv(client.get(reverse("indicators:export", args=["trend", "csv"]) + "?dims=nationality&measure=received"))
    assert next(r for r in rows if r[0] == "Venezuela")[1:] == ["0", f"<{K}", "0", f"<{K}", "—", "—"]
    chart = client.get(reverse("indicators:chart", args=["trend"]) + "?dims=nationality").json()
    line = next(d for d in chart["datasets"] if d["label"] == "Panamá")
    assert chart["labels"] == ["2023", "2024", "2025"]
    assert line["data"] == [0, 0, None] and line["display"] == ["0", "0", f"<{K}"]
    assert line["change"] == ["", "0", "—"]


@pytest.mark.django_db
def test_coordinators_see_exact_trends(data):
    trend = _trend(data.coordinator_a, ["nationality"], "received")
    venezuela = _row(trend, "VE")
    assert [c.value for c in trend.table.cells[venezuela]] == [0, 2, 0]
    assert [c.display for c in trend.extra["changes"][venezuela]] == ["", "+2", "-2"]


def _bounds(display: str, deviation: int) -> tuple[int, int] | None:
    """What a published figure tells about its true count: a shown value within the maximum deviation (and at
    least 1), "<k" from 1 to k-1 plus the deviation, 0 exactly; nothing for a hidden or blank change."""
    if display in ("", "—"):
        return None
    if display == "0":
        return (0, 0)
    if display.startswith("<"):
        return (1, K - 1 + deviation)
    value = int(display)
    return (max(1, value - deviation), value + deviation)


def _trend_figures(report, *, changes, change_slack: int, deviation: int) -> list[tuple[dict, tuple[int, int]]]:
    """A trend's figures as (the (year, code) atoms each one adds up, with their signs; the bounds it puts on
    their true counts). A change bounds the difference of two true counts within ``change_slack``."""
    figures = []
    keys, years = report.table.row_keys, report.table.col_keys

    def add(members, bounds):
        if bounds is not None:
            figures.append((members, bounds))

    for i, key in enumerate(keys):
        for j, year in enumerate(years):
            add({(year, key): 1}, _bounds(report.table.cells[i][j].display, deviation))
            shown = changes[i][j].display
            if j and shown not in ("", "—"):
                add({(year, key): 1, (years[j - 1], key): -1}, (int(shown) - change_slack, int(shown) + change_slack))
        add({(y, key): 1 for y in years}, _bounds(report.table.row_totals[i].display, deviation))
    for j, year in enumerate(years):
        add({(year, key): 1 for key in keys}, _bounds(report.table.col_totals[j].display, deviation))
    add({(y, key): 1 for y in years for key in keys}, _bounds(report.table.grand_total.display, deviation))
    return figures


def _determined(figures, truth: dict) -> list:
    """The hidden atoms (true count 1 to k-1) whose true count the figures pin to one value, solved as a
    linear program over the atoms' true counts (as tests/test_disclosure_attack.py does)."""
    atoms = sorted(truth)
    index = {atom: i for i, atom in enumerate(atoms)}
    rows, limits = [], []
    for members, (low, high) in figures:
        coefficients = [0] * len(atoms)
        for atom, sign in members.items():
            coefficients[index[atom]] = sign
        rows += [coefficients, [-c for c in coefficients]]
        limits += [high, -low]
    found = []
    for atom in atoms:
        if not 0 < truth[atom] < K:
            continue
        objective = [1 if a == atom else 0 for a in atoms]
        low = linprog(objective, A_ub=rows, b_ub=limits, bounds=(0, None), method="highs")
        high = linprog([-c for c in objective], A_ub=rows, b_ub=limits, bounds=(0, None), method="highs")
        assert low.status == 0 and high.status == 0  # the truth is feasible, so the program is
        if math.ceil(low.fun - 1e-6) == math.floor(-high.fun + 1e-6):
            found.append(atom)
    return found


@pytest.mark.django_db
def test_differencing_trends_with_other_pages_recovers_no_hidden_value(data, settings):
    """An analyst collects the trend of received applications by nationality (cells, totals, changes) and what
    the disaggregation page publishes for each year and each span of years, and solves. No hidden value is
    pinned. Control: had the changes been differences of the true counts, the hidden ones would be (Venezuela
    had none in 2023, published as an exact 0, so a true change of +2 gives its 2 of 2024 away)."""
    analyst = data.analyst_a
    deviation = settings.DISCLOSURE_MAX_DEVIATION
    trend = _trend(analyst, ["nationality"], "received")
    truth = {(year, code): 0 for year in YEARS for code in trend.table.row_keys}
    for (year, code), n in selectors.crosstab_by_year(measure="received", dims=["nationality"]).items():
        truth[(year, code)] = int(n)
    others = []
    for year_from, year_to in [(y, y) for y in YEARS] + [(2023, 2024), (2024, 2025), (2023, 2025)]:
        page = catalogue.build(
            "dimension-nationality", analyst, Filters(year_from=year_from, year_to=year_to), _query(measure="received")
        )
        span = range(year_from, year_to + 1)
        for key, cells in zip(page.table.row_keys, page.table.cells, strict=True):
            others.append(({(y, key): 1 for y in span}, _bounds(cells[0].display, deviation)))
        everything = {(y, key): 1 for y in span for key in page.table.row_keys}
        others.append((everything, _bounds(page.table.col_totals[0].display, deviation)))
    assert {(2024, "VE"), (2025, "PA")} <= {atom for atom, n in truth.items() if 0 < n < K}

    published_changes = _trend_figures(
        trend, changes=trend.extra["changes"], change_slack=2 * deviation, deviation=deviation
    )
    assert _determined(published_changes + others, truth) == []

    true_changes = _trend(data.coordinator_a, ["nationality"], "received").extra["changes"]
    leaky = _trend_figures(trend, changes=true_changes, change_slack=0, deviation=deviation)
    assert (2024, "VE") in _determined(leaky + others, truth)


@pytest.mark.django_db
def test_exports_hold_the_tables_with_changes_as_signed_numbers(data):
    client = data.client_for(data.coordinator_a)  # exact counts, so the changes are known here
    query = "?dims=nationality&measure=received"
    rows = _csv(client.get(reverse("indicators:export", args=["trend", "csv"]) + query))
    assert rows[0][:6] == ["Nacionalidad", "2023", "2024", "2025", "Total", "Cambio 2024"]
    assert next(r for r in rows if r[0] == "Venezuela")[1:] == ["0", "2", "0", "2", "+2", "-2"]
    sheet = load_workbook(io.BytesIO(client.get(reverse("indicators:export", args=["trend", "xlsx"]) + query).content))
    values = [[c.value for c in row] for row in sheet.active.iter_rows()]
    assert next(r for r in values if r[0] == "Venezuela")[1:7] == [0, 2, 0, 2, 2, -2]
    headline = _csv(client.get(reverse("indicators:export", args=["trend-headline", "csv"])))
    assert [r[0] for r in headline[1:]] == [
        "Solicitudes recibidas",
        "Víctimas acreditadas (solicitudes)",
        "Víctimas acreditadas (personas)",
    ]
    analyst = _csv(data.client_for(data.analyst_a).get(reverse("indicators:export", args=["trend", "csv"]) + query))
    assert not [c for row in analyst[1:] for c in row[1:] if c.isdigit() and 1 <= int(c) < K]


@pytest.mark.django_db
def test_api_answers_the_page_table(data):
    """The API's trend is the page's table: the same rows, cells, totals and changes."""
    analyst = data.client_for(data.analyst_a)
    from tests.api_support import token_client

    api = token_client(data.analyst_a)[0]
    for page_query, api_query in [
        ("?dims=sex&dims=nationality&measure=received", "?dims=sex,nationality&measure=received"),
        ("?dims=nationality&year_from=2024", "?dims=nationality&year_from=2024"),
        ("?dims=exploitation_form&sex=F", "?dims=exploitation_form&sex=F"),
    ]:
        rows = _csv(analyst.get(reverse("indicators:export", args=["trend", "csv"]) + page_query))
        body = api.get("/api/v1/indicators/trend/" + api_query).json()
        dims = len(body["row_dimensions"])
        assert [str(y) for y in body["years"]] == rows[0][dims : dims + len(body["years"])]
        expected = [
            [*row["labels"], *(c["display"] for c in row["cells"]), row["total"]["display"]]
            + [c["display"] for c in row["changes"][1:]]
            for row in body["rows"]
        ]
        assert rows[1:-1] == expected, page_query
        totals = ["Total", *[""] * (dims - 1), *(c["display"] for c in body["year_totals"])]
        totals += [body["grand_total"]["display"], *(c["display"] for c in body["year_total_changes"][1:])]
        assert rows[-1] == totals
    headline = api.get("/api/v1/indicators/trend-headline/").json()
    rows = _csv(analyst.get(reverse("indicators:export", args=["trend-headline", "csv"])))
    assert [[*r["labels"], *(c["display"] for c in r["cells"])] for r in headline["rows"]] == [
        row[:4] for row in rows[1:]
    ]
    assert headline["year_totals"] is None


@pytest.mark.django_db
def test_refused_trends_say_why(data):
    analyst = data.client_for(data.analyst_a)
    html = analyst.get("/reports/trends/?dims=sex&dims=nationality&dims=age_group").content.decode()
    assert 'data-testid="report-unavailable"' in html and "dos como máximo" in html
    assert 'data-testid="table-trend-headline"' in html  # the key figures are still shown
    # A pair plus a filter is three dimensions with the year; a pair not precomputed is refused with its reason.
    chart = reverse("indicators:chart", args=["trend"])
    refused = analyst.get(chart + "?dims=sex&dims=nationality&institution=INAMU&migration_status=REGULAR")
    assert refused.status_code == 400 and "tres" in refused.json()["error"]
    not_precomputed = analyst.get(chart + "?dims=sex&dims=nationality&institution=INAMU")
    assert not_precomputed.status_code == 400 and "no está disponible" in not_precomputed.json()["error"]
    pair = analyst.get("/reports/trends/?dims=residence_canton&dims=sex").content.decode()
    assert 'data-testid="report-unavailable"' in pair
    from tests.api_support import token_client

    api = token_client(data.analyst_a)[0]
    unknown = api.get("/api/v1/indicators/trend/?dims=nothing-such")
    assert unknown.status_code == 400 and "nothing-such" not in unknown.content.decode()
    assert api.get("/api/v1/indicators/trend/?dims=sex&measure=overdue").status_code == 400


@pytest.mark.django_db
def test_pending_has_no_total_over_the_years(data):
    trend = _trend(data.coordinator_a, ["sex"], "pending")
    assert all(cell.display == "" for cell in trend.table.row_totals)
    men = trend.table.cells[_row(trend, "M")]
    assert men[1].value == 4  # four men's applications of 2024 still open at the end of 2024


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/reports/trends/",
        "/reports/trends/?dims=sex&dims=nationality&measure=received",
        "/reports/chart/trend/?dims=nationality",
        "/reports/chart/trend-headline/",
        "/reports/export/trend.xlsx?dims=sex",
        "/reports/export/trend-headline.csv",
        "/api/v1/indicators/trend/?dims=sex",
        "/api/v1/indicators/trend-headline/",
    ],
)
def test_trends_for_every_role_with_reports_and_nobody_else(data, url):
    from rest_framework.test import APIClient

    from tests.api_support import token_client

    api = url.startswith("/api/")
    for who, user in data.users().items():
        web = data.client_for(user)
        client = (APIClient() if user is None else token_client(user)[0]) if api else web
        status = client.get(url).status_code
        if who == "anonymous":
            assert status == (401 if api else 302), (who, url)
        elif who == "nobody":
            assert status == 403, (who, url)
        else:
            assert status == 200, (who, url)


@pytest.mark.django_db
def test_trends_page_is_in_the_reports_navigation(data):
    html = data.client_for(data.analyst_b).get("/reports/").content.decode()
    assert '<a class="nav-link" href="/reports/trends/">Tendencias</a>' in html
