"""Invalid filters are refused by every output (issue 20, point 5): the report page (400, the refusal beside the
filter form, no table), its chart data (400 ``{"error": ...}``), its CSV and XLSX (400, plain text) and the
indicators API (400 ``{"detail": ...}``), with one Spanish message naming the filters (never the values sent).
Before, every output but the page served the unfiltered table (``?institution=CONATT``: a coordination body,
not an institution that refers cases), and the page showed the error above the unfiltered figures.

Nothing cached is served for an invalid filter: the unfiltered page, chart and files are cached first, and the
invalid address still gets its refusal."""

from __future__ import annotations

import html
import re

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from indicators import catalogue
from tests.api_support import fresh_throttles, token_client

# The data set is recomputed once for the module (tests/conftest.py::report_data_module); each test runs in a
# savepoint of it, on one xdist worker.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("report_data_filters")]

# The pages, chart data and files of three reports (one per kind of builder: measures by year, one dimension,
# a cross-tab), each with the query string its page gives it.
PAGES = [
    ("/reports/", ""),
    ("/reports/disaggregations/sex/", "measure=received"),
    ("/reports/intersections/", "dims=age_group&dims=nationality&measure=received"),
]
OUTPUTS = [
    ("by-year", ""),
    ("dimension-sex", "measure=received"),
    ("crosstab", "dims=age_group&dims=nationality&measure=received"),
]
API = ["/api/v1/indicators/by-year/?measure=received", "/api/v1/indicators/crosstab/?dims=age_group&measure=received"]

INSTITUTION = "Institución que refiere"
YEAR_FROM, YEAR_TO = "Desde el año", "Hasta el año"
SEX = "Sexo"
ENDING = "No se muestra ninguna cifra hasta que los filtros se corrijan o se quiten."

# (invalid filters, the filters the refusal names, whether the API refuses them with the same message)
INVALID = [
    ("institution=CONATT", [INSTITUTION], True),  # the address: a coordination body
    ("institution=NOPE", [INSTITUTION], True),
    ("year_from=1990", [YEAR_FROM], True),  # a year without data
    ("year_from=2024&year_to=2031", [YEAR_TO], True),
    ("sex=NOPE", [SEX], True),
    ("institution=CONATT&sex=NOPE", [INSTITUTION, SEX], True),
]


def refusal(names: list[str]) -> str:
    return f"Filtros no válidos: {', '.join(names)}. {ENDING}"


@pytest.fixture
def data(report_data):
    fresh_throttles()
    return report_data


def _join(*parts: str) -> str:
    return "&".join(p for p in parts if p)


def _page_refusal(response) -> str:
    found = re.search(r'data-testid="filters-refused"[^>]*>(.*?)</div>', response.content.decode(), re.S)
    assert found, "no refusal on the page"
    return html.unescape(found.group(1)).strip()


def _no_figures(body: str) -> None:
    assert 'data-testid="table-' not in body
    assert "data-chart-url" not in body
    assert "/reports/export/" not in body


def _assert_every_output_refuses(client, api, invalid: str, expected: str, *, api_same: bool = True) -> None:
    for path, base in PAGES:
        response = client.get(f"{path}?{_join(base, invalid)}")
        assert response.status_code == 400, (path, invalid)
        assert _page_refusal(response) == expected, (path, invalid)
        assert "no-store" in response["Cache-Control"]
        body = response.content.decode()
        _no_figures(body)
        assert 'id="report-filters"' in body  # the form is there to correct them, its errors marked
    for slug, base in OUTPUTS:
        chart = client.get(f"/reports/chart/{slug}/?{_join(base, invalid)}")
        assert chart.status_code == 400, (slug, invalid)
        assert chart.json() == {"error": expected}, (slug, invalid)
        for fmt in ("csv", "xlsx"):
            export = client.get(f"/reports/export/{slug}.{fmt}?{_join(base, invalid)}")
            assert export.status_code == 400, (slug, fmt, invalid)
            assert export["Content-Type"] == "text/plain; charset=utf-8"
            assert export.content.decode() == expected, (slug, fmt, invalid)
            assert "Content-Disposition" not in export
    for url in API:
        answer = api.get(_join(url, invalid))
        assert answer.status_code == 400, (url, invalid)
        if api_same:
            assert answer.json() == {"detail": expected}, (url, invalid)


@pytest.mark.parametrize(("invalid", "names", "api_same"), INVALID)
def test_every_output_refuses_an_invalid_filter_with_one_message(data, invalid, names, api_same):
    client = data.client_for(data.analyst_a)
    api = token_client(data.analyst_a)[0]
    _assert_every_output_refuses(client, api, invalid, refusal(names), api_same=api_same)


def test_years_in_the_wrong_order_are_refused_everywhere_with_the_reason(data):
    client = data.client_for(data.analyst_a)
    api = token_client(data.analyst_a)[0]
    expected = f"El primer año no puede ser posterior al último. {ENDING}"
    _assert_every_output_refuses(client, api, "year_from=2025&year_to=2023", expected)


def test_an_unknown_measure_is_refused_not_replaced_by_the_default(data):
    """Pages and files count only the count measures (the pickers' choices); the API any measure it lists."""
    client = data.client_for(data.analyst_b)
    expected = refusal(["Qué contar"])
    for measure in ("nothing", "overdue"):  # overdue is a measure of the API, not a count a page draws
        for path, base in PAGES[1:]:
            response = client.get(f"{path}?{_join(base.replace('measure=received', ''), f'measure={measure}')}")
            assert response.status_code == 400 and _page_refusal(response) == expected, (path, measure)
            _no_figures(response.content.decode())
        for slug, base in OUTPUTS:
            query = _join(base.replace("measure=received", ""), f"measure={measure}")
            chart = client.get(f"/reports/chart/{slug}/?{query}")
            assert chart.status_code == 400 and chart.json() == {"error": expected}, (slug, measure)
            for fmt in ("csv", "xlsx"):
                export = client.get(f"/reports/export/{slug}.{fmt}?{query}")
                assert export.status_code == 400 and export.content.decode() == expected, (slug, fmt, measure)
    api = token_client(data.analyst_b)[0]
    refused = api.get("/api/v1/indicators/by-year/?measure=nothing")
    assert refused.status_code == 400 and "measure" in refused.json()
    assert api.get("/api/v1/indicators/by-year/?measure=overdue").status_code == 200


def test_unknown_dimensions_to_cross_are_refused(data):
    client = data.client_for(data.analyst_a)
    expected = refusal(["Dimensiones a cruzar"])
    response = client.get("/reports/intersections/?dims=sex&dims=NOPE")
    assert response.status_code == 400 and _page_refusal(response) == expected
    _no_figures(response.content.decode())
    chart = client.get("/reports/chart/crosstab/?dims=sex&dims=NOPE")
    assert chart.status_code == 400 and chart.json() == {"error": expected}
    for fmt in ("csv", "xlsx"):
        export = client.get(f"/reports/export/crosstab.{fmt}?dims=sex&dims=NOPE")
        assert export.status_code == 400 and export.content.decode() == expected
    refused = token_client(data.analyst_a)[0].get("/api/v1/indicators/crosstab/?dims=sex,NOPE")
    assert refused.status_code == 400 and "dims" in refused.json()
    # Known dimensions that cannot be crossed are a question the page answers with its reason, as before.
    four = client.get("/reports/intersections/?dims=sex&dims=age_group&dims=nationality&dims=migration_status")
    assert four.status_code == 200 and 'data-testid="crosstab-refusal"' in four.content.decode()


def test_the_refusal_does_not_quote_the_value_sent(data):
    value = "ZZ-\u202enot-a-code-<b>x"
    page = data.client_for(data.analyst_a).get("/reports/", {"institution": value})
    assert page.status_code == 400
    body = page.content.decode()
    assert "<b>x" not in body
    # The address comes back only where the page names its own address (the language switch), escaped.
    assert body.count("not-a-code") == body.count('name="next" value="/reports/?institution=ZZ-')
    for url in ("/reports/chart/by-year/", "/reports/export/by-year.csv", "/reports/export/by-year.xlsx"):
        response = data.client_for(data.analyst_a).get(url, {"institution": value})
        assert response.status_code == 400 and "not-a-code" not in response.content.decode(), url
    api = token_client(data.analyst_a)[0].get("/api/v1/indicators/by-year/", {"institution": value})
    assert api.status_code == 400 and "not-a-code" not in api.content.decode()


def test_nothing_cached_is_served_for_an_invalid_filter(data):
    """The unfiltered page, chart data and files are cached first (as the first visitor of the day leaves
    them); an invalid filter, which used to give the unfiltered view, still gets its refusal, twice, and leaves
    nothing in the page cache."""
    client = data.client_for(data.analyst_a)
    for path, base in PAGES:
        assert client.get(f"{path}?{base}").status_code == 200
        assert client.get(path).status_code == 200
    for slug, base in OUTPUTS:
        assert client.get(f"/reports/chart/{slug}/?{base}").status_code == 200
        assert client.get(f"/reports/export/{slug}.csv?{base}").status_code == 200
    api = token_client(data.analyst_a)[0]
    for url in API:
        assert api.get(url).status_code == 200
    expected = refusal([INSTITUTION])
    for _ in range(2):
        _assert_every_output_refuses(client, api, "institution=CONATT", expected)
    request = RequestFactory().get("/reports/", {"institution": "CONATT"})
    request.user = data.analyst_a
    key = catalogue.page_cache_key(request, "dashboard")
    assert cache.get(key) is None


def test_valid_filters_still_filter_every_output(data):
    """The refusal is for invalid filters only: a reporting institution, a year with data, a known code (and, in
    the API, the empty code for "not recorded") still give their tables."""
    client = data.client_for(data.analyst_a)
    institution = data.institution_a.code
    for valid in (f"institution={institution}", "year_from=2024&year_to=2024", "sex=F"):
        for path, base in PAGES:
            response = client.get(f"{path}?{_join(base, valid)}")
            assert response.status_code == 200, (path, valid)
            assert 'data-testid="filters-refused"' not in response.content.decode()
        for slug, base in OUTPUTS:
            chart = client.get(f"/reports/chart/{slug}/?{_join(base, valid)}")
            export = client.get(f"/reports/export/{slug}.xlsx?{_join(base, valid)}")
            if slug == "crosstab" and valid.startswith("institution"):
                # age group x nationality x institution is not precomputed: refused with that reason instead.
                assert chart.status_code == export.status_code == 400
                assert "Filtros no válidos" not in chart.json()["error"]
                continue
            assert chart.status_code == 200 and export.status_code == 200, (slug, valid)
    api = token_client(data.analyst_a)[0]
    for url in API:
        for query in (f"institution={institution}", "year_from=2024", "migration_status=", "sex=F"):
            assert api.get(_join(url, query)).status_code == 200, (url, query)
