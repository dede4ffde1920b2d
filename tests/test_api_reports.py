"""Every report of the pages through the indicators API (issue 15, point 12): flows, profiles, maps, data quality,
GLOTIP and SDG tables, relations and the rest answer at /api/v1/indicators/reports/<slug>/, built by the same
report catalogue and disclosure control as the pages and files, over the known data set of tests/report_data.py.
The same cell reads the same in the API answer and in the page's CSV; no figure from 1 to k-1 is shown to anyone
but coordinators; the words the files carry about a table (measure, years, filters, protection) come with it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.api_support import fresh_throttles, token_client
from tests.export_support import csv_table
from tests.report_data import K
from tests.test_reports_pages import EXPORTS

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("report_data_api_reports")]

# The reports the API had no answer for before, and the maps (the list).
REPORTS = [
    *EXPORTS,
    "flows",
    "countries",
    "map-province",
    "map-canton",
    "map-recruitment-canton",
    "relation-means",
    "timeliness",
    "by-year",
]


@pytest.fixture
def data(report_data):
    fresh_throttles()
    return report_data


def _get(client, slug: str, query: str = ""):
    return client.get(reverse("api-indicators-report", args=[slug]) + query, HTTP_ACCEPT="application/json")


def _displays(body: dict) -> list[list[str]]:
    """Each row's labels, then its cells' and total's display texts, as the CSV lays a row out."""
    return [[*row["labels"], *(c["display"] for c in row["cells"])] for row in body["rows"]]


def _small_values(body: dict) -> list[str]:
    cells = [c for row in body["rows"] for c in (*row["cells"], row["total"])]
    cells += [*(body["column_totals"] or []), *([body["grand_total"]] if body["grand_total"] else [])]
    return [c["display"] for c in cells if c["value"] is not None and 0 < c["value"] < K]


def test_every_report_answers_with_the_same_cells_as_its_csv(data):
    api = token_client(data.analyst_a)[0]
    pages = data.client_for(data.analyst_a)
    for slug in REPORTS:
        response = _get(api, slug)
        assert response.status_code == 200, (slug, response.content[:300])
        body = response.json()
        assert body["slug"] == slug and body["title"]
        assert not body["exact"] and body["disclosure_threshold"] == K
        assert body["about"]["source"] == "CONATT, portal de indicadores"
        assert f'"<{K}"' in body["about"]["protection"]
        assert _small_values(body) == [], slug
        csv = csv_table(pages.get(reverse("indicators:export", args=[slug, "csv"])).content)
        # Every row of the answer stands in the CSV with the same labels and the same cells, in order.
        for row in _displays(body):
            assert any(line[: len(row)] == row for line in csv), (slug, row)


def test_coordinators_get_exact_figures_and_officers_protected_ones(data):
    exact = _get(token_client(data.coordinator_a)[0], "profiles").json()
    assert exact["exact"] and "Cifras exactas" in exact["about"]["protection"]
    protected = _get(token_client(data.officer_a)[0], "profiles").json()
    assert not protected["exact"] and _small_values(protected) == []


def test_filters_years_and_zoom_reach_the_report(data):
    api = token_client(data.analyst_a)[0]
    body = _get(api, "map-canton", "?zoom=1&year_from=2024&year_to=2024").json()
    assert body["about"]["years"] == "2024"
    assert body["rows"] and all(row["key"][0].startswith("1") for row in body["rows"])  # San José's cantons
    # A report that applies only the years says which filters it left out, with the reason.
    glotip = _get(api, "glotip-forms", "?sex=F").json()
    assert glotip["about"]["filters_not_applied"].startswith("Sexo: Mujer")


def test_derived_columns_come_as_shown(data):
    body = _get(token_client(data.analyst_a)[0], "quality-completeness").json()
    assert body["derived_columns"]
    assert all(len(row["derived"]) == len(body["derived_columns"]) for row in body["rows"])


@pytest.mark.parametrize(
    ("slug", "query", "status"),
    [
        ("no-such-report", "", 404),
        ("dimension-no_such_dimension", "", 404),
        ("profiles", "?sex=NOPE", 400),
        ("profiles", "?year_from=abc", 400),
        ("map-canton", "?zoom=../../etc", 400),
        ("profiles", "?measure=identity", 400),
    ],
)
def test_bad_questions_are_refused_with_the_reason(data, slug, query, status):
    response = _get(token_client(data.analyst_a)[0], slug, query)
    assert response.status_code == status, response.content[:300]
    assert response.json()  # a reason, in JSON, never a page


def test_people_without_report_rights_get_nothing(data):
    assert _get(token_client(data.nobody)[0], "profiles").status_code == 403
