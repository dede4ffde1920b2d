"""Report pages, chart data and exports over a known data set with small cells (tests/report_data.py):
no analyst-facing output holds a count from 1 to k-1; coordinators see the exact values; a fourth dimension
is refused; filters round-trip through the address."""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import parse_qsl, urlparse

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from indicators import disclosure, selectors
from tests.export_support import csv_table
from tests.report_data import GIRLS_NI_SOCIAL_2024, K

PAGES = [
    "/reports/",
    "/reports/?year_from=2024&year_to=2024",
    "/reports/?year_from=2024&year_to=2024&victim_group=GIRL&nationality=NI&recruitment_method=SOCIAL_NETWORK",
    "/reports/?sex=M",
    "/reports/disaggregations/sex/",
    "/reports/disaggregations/nationality/?measure=received",
    "/reports/disaggregations/age_group/?year_from=2024&year_to=2024",
    "/reports/disaggregations/residence_canton/",
    "/reports/intersections/?dims=sex&dims=nationality",
    "/reports/intersections/?dims=sex&dims=age_group&dims=nationality",
    "/reports/intersections/?dims=victim_group&dims=nationality&dims=recruitment_method",
    "/reports/trends/",
    "/reports/trends/?dims=nationality&dims=sex&measure=received",
    "/reports/profiles/",
    "/reports/relations/",
    "/reports/maps/",
    "/reports/quality/",
    "/reports/international/",
]
CHARTS = [
    "by-year",
    "timeliness",
    "dimension-sex",
    "dimension-nationality",
    "dimension-residence_province",
    "relation-means",
    "relation-recruitment_method",
    "flows",
    "countries",
    "map-province",
    "map-canton",
    "map-recruitment-canton",
    "trend",
    "trend-headline",
]
EXPORTS = [
    *CHARTS,
    "profiles",
    "quality-completeness",
    "quality-timeliness",
    "glotip-forms",
    "glotip-citizenship",
    "sdg-16-2-2-sex-age",
    "sdg-16-2-2-form",
]


# The data set is recomputed once for the module (tests/conftest.py::report_data_module); each test runs in a
# savepoint of it. The module goes to one xdist worker, so that the recompute is done once, not once per worker.
pytestmark = pytest.mark.xdist_group("report_data_pages")


@pytest.fixture
def data(report_data):
    return report_data


def published(count) -> int | None:
    """What an analyst is shown for an exact count (with its cell key) from the selectors."""
    return disclosure.protect_count(count, k=K).value


def main_content(html: str) -> str:
    """A page's main content, without the CSRF token of the "save this view" form (outside the cached content,
    masked afresh for each answer): what must be the same from one answer to the next."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html.split('<main id="main"')[1])


def small_counts_in_html(html: str) -> list[str]:
    """Numbers from 1 to k-1 that stand alone in a table cell or a key figure."""
    # A cell's text, also inside its drill-down link (<td><a href="...">12</a></td>).
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", html, re.S)]
    kpis = re.findall(r'class="kpi-value[^"]*">\s*([^<]*?)\s*<', html)
    return [c for c in cells + kpis if c.isdigit() and 1 <= int(c) < K]


def small_values_in_chart(payload: dict) -> list:
    found = []
    for dataset in payload.get("datasets", []):
        found += [v for v in dataset["data"] if isinstance(v, int) and 1 <= v < K]
        found += [d for d in dataset.get("display", []) if str(d).isdigit() and 1 <= int(d) < K]
    found += [c["v"] for c in payload.get("cells", []) if c["v"] is not None and 1 <= c["v"] < K]
    found += [f["flow"] for f in payload.get("flows", []) if 1 <= f["flow"] < K]
    for area in [*payload.get("areas", {}).values(), *payload.get("rolled_up", {}).values()]:
        if area["value"] is not None and 1 <= area["value"] < K:
            found.append(area)
    return found


def csv_cells(content: bytes) -> list[str]:
    """The table's cells (not its header nor its labels); the metadata rows lead the file."""
    return [c for row in csv_table(content)[1:] for c in row[1:]]


# Each test walks every output of its kind.


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["analyst_a", "officer_b", "admin_a"])
def test_pages_hold_no_small_count_for_anyone_but_coordinators(data, who):
    client = data.client_for(getattr(data, who))
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert small_counts_in_html(html) == [], url
        assert "Datos al" in html or "Data as of" in html, url


@pytest.mark.django_db
def test_chart_data_holds_no_small_count(data):
    client = data.client_for(data.analyst_b)
    for slug in CHARTS:
        for query in ("", "?year_from=2024&year_to=2024", "?measure=received"):
            response = client.get(reverse("indicators:chart", args=[slug]) + query)
            assert response.status_code == 200, slug
            assert small_values_in_chart(response.json()) == [], (slug, query)


@pytest.mark.django_db
def test_exports_hold_no_small_count(data):
    client = data.client_for(data.analyst_a)
    for slug in EXPORTS:
        response = client.get(reverse("indicators:export", args=[slug, "csv"]))
        assert response.status_code == 200, slug
        assert response["Content-Type"].startswith("text/csv")
        cells = csv_cells(response.content)  # changes are signed ("+2"): a difference of two published values
        assert [c for c in cells if c.isdigit() and 1 <= int(c) < K] == [], slug
        response = client.get(reverse("indicators:export", args=[slug, "xlsx"]))
        assert response.status_code == 200, slug
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows(min_row=4))
        # A trend's "Cambio AAAA" columns hold differences of two published values, not counts.
        header = next(sheet.iter_rows(min_row=3, max_row=3))
        changes = {c.column for c in header if str(c.value or "").startswith("Cambio")}
        # Shares are numbers with a percentage format (1 is 100 %), not counts.
        numbers = [
            c.value
            for row in rows
            for c in row[1:]
            if isinstance(c.value, int) and c.column not in changes and not c.number_format.endswith("%")
        ]
        assert [n for n in numbers if 1 <= n < K] == [], slug


@pytest.mark.django_db
def test_small_cells_are_shown_as_below_k(data):
    html = data.client_for(data.analyst_a).get("/reports/disaggregations/nationality/?measure=received").content
    assert f"&lt;{K}".encode() in html


@pytest.mark.django_db
def test_coordinator_sees_exact_counts(data):
    client = data.client_for(data.coordinator_a)
    payload = client.get(reverse("indicators:chart", args=["dimension-nationality"]) + "?measure=received").json()
    data_by_label = dict(zip(payload["labels"], payload["datasets"][0]["data"], strict=True))
    # Panamá: the single accredited person of 2025 (received 1); Venezuela: 2 not accredited.
    assert 1 in data_by_label.values()
    assert 2 in data_by_label.values()
    html = client.get("/reports/disaggregations/nationality/?measure=received").content.decode()
    assert "1" in small_counts_in_html(html)  # the cell (a drill-down link) holds the exact 1
    rows = csv_cells(
        client.get(reverse("indicators:export", args=["dimension-nationality", "csv"]) + "?measure=received").content
    )
    assert "1" in rows and "2" in rows


@pytest.mark.django_db
def test_the_issue_question_is_answered_in_the_dashboard(data):
    """Accredited victims in 2024 who were girls of Nicaraguan nationality recruited through social networks."""
    url = (
        "/reports/chart/by-year/?year_from=2024&year_to=2024"
        "&victim_group=GIRL&nationality=NI&recruitment_method=SOCIAL_NETWORK"
    )
    payload = data.client_for(data.analyst_a).get(url).json()
    persons = next(
        d
        for d in payload["datasets"]
        if d["label"] in ("Accredited victims (persons)", "Víctimas acreditadas (personas)")
    )
    assert payload["labels"] == ["2024"]
    filters = {"victim_group": "GIRL", "nationality": "NI", "recruitment_method": "SOCIAL_NETWORK"}
    exact = selectors.measure_by_year(measure="accredited_persons", year_from=2024, year_to=2024, filters=filters)
    assert exact[2024] == GIRLS_NI_SOCIAL_2024
    # Analysts read the figure as perturbed by its cell key: near the truth, and the same value everywhere.
    assert persons["data"] == [published(exact[2024])]
    assert abs(persons["data"][0] - GIRLS_NI_SOCIAL_2024) <= settings.DISCLOSURE_MAX_DEVIATION


@pytest.mark.django_db
def test_fourth_dimension_is_refused_with_a_reason(data):
    url = "/reports/intersections/?dims=sex&dims=age_group&dims=nationality&dims=migration_status"
    response = data.client_for(data.analyst_a).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="crosstab-refusal"' in html
    assert "three dimensions" in html or "tres dimensiones" in html
    assert 'data-testid="table-crosstab"' not in html
    export = data.client_for(data.analyst_a).get(
        "/reports/export/crosstab.csv?dims=sex&dims=age_group&dims=nationality&dims=migration_status"
    )
    assert export.status_code == 400
    chart = data.client_for(data.analyst_a).get(
        "/reports/chart/crosstab/?dims=sex&dims=age_group&dims=nationality&dims=migration_status"
    )
    assert chart.status_code == 400
    assert "error" in chart.json()


@pytest.mark.django_db
def test_filters_and_dimensions_round_trip_through_the_address(data):
    url = "/reports/intersections/?year_from=2024&year_to=2024&sex=F&dims=age_group&dims=nationality&measure=received"
    html = data.client_for(data.analyst_a).get(url).content.decode()
    # The form shows what the address asked for...
    assert re.search(r'<option value="2024" selected>', html)
    assert re.search(r'name="sex"[^>]*>.*?<option value="F" selected>', html, re.S)
    assert (
        'value="age_group" checked' in html
        or 'checked value="age_group"' in html
        or re.search(r'value="age_group"[^>]*checked', html)
    )
    # ...and the chart and export links carry the same filters and dimensions, in order.
    export = re.search(r'href="(/reports/export/crosstab\.csv\?[^"]+)"', html).group(1).replace("&amp;", "&")
    query = parse_qsl(urlparse(export).query)
    assert ("year_from", "2024") in query and ("year_to", "2024") in query and ("sex", "F") in query
    assert [v for k, v in query if k == "dims"] == ["age_group", "nationality"]
    assert ("measure", "received") in query
    chart = re.search(r'data-chart-url="(/reports/chart/crosstab/\?[^"]+)"', html).group(1).replace("&amp;", "&")
    assert parse_qsl(urlparse(chart).query) == query


@pytest.mark.django_db
def test_bad_filter_values_are_errors_not_ignored(data):
    html = data.client_for(data.analyst_a).get("/reports/?year_from=2025&year_to=2023&sex=NOPE").content.decode()
    assert "form-errors" in html
    assert 'aria-invalid="true"' in html


@pytest.mark.django_db
def test_unavailable_combination_is_explained(data):
    # Four filters are more than three dimensions: the selectors refuse, the page says why.
    url = "/reports/?sex=F&nationality=NI&recruitment_method=SOCIAL_NETWORK&migration_status=REGULAR&institution=INAMU"
    html = data.client_for(data.analyst_a).get(url).content.decode()
    assert 'data-testid="report-unavailable"' in html


@pytest.mark.django_db
def test_export_is_logged_without_data(data):
    from accounts.models import AccessEvent

    data.client_for(data.analyst_a).get(reverse("indicators:export", args=["by-year", "csv"]))
    event = AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT, object_type="report").get()
    assert event.object_id == "by-year" and event.detail == "csv"


@pytest.mark.django_db
def test_map_rolls_small_cantons_up_to_their_province(data):
    payload = data.client_for(data.analyst_a).get(reverse("indicators:chart", args=["map-canton"])).json()
    areas = payload["areas"]
    # Panamá's one person lives in Limón (canton 701): no canton of Limón is drawn, the province is, hidden.
    assert not [code for code in areas if code.startswith("7")]
    assert payload["rolled_up"]["7"]["value"] is None and payload["rolled_up"]["7"]["display"] == f"<{K}"
    assert all(a["value"] is None or a["value"] >= K or a["value"] == 0 for a in areas.values())
    assert json.dumps(payload).count("IGN") == 0  # the credit is on the page, not in the data


@pytest.mark.django_db
def test_recruitment_canton_map_is_protected_for_analysts_and_exact_for_coordinators(data):
    """The report data recruits everyone in their district of residence. In 2024 three accredited men were
    recruited in Alajuela (canton 201), the only ones of that province: analysts see Alajuela rolled up and
    hidden, coordinators the exact cantons. San José's cantons are drawn with their perturbed figures (a
    difference of two perturbed figures gives no true count, so nothing else needs hiding). In 2023 both
    provinces hold enough people to be drawn canton by canton."""
    chart = reverse("indicators:chart", args=["map-recruitment-canton"])
    url = chart + "?year_from=2024&year_to=2024"
    analyst_payload = data.client_for(data.analyst_a).get(url).json()
    analyst = analyst_payload["areas"]
    alajuela = selectors.crosstab(
        measure="accredited_persons", dims=["recruitment_province"], year_from=2024, year_to=2024
    )[("2",)]
    if disclosure.protect_count(alajuela, k=K).hidden:  # a true 3: hidden unless its noise is +2
        # Rolled up: Alajuela is drawn as one area, the province, and none of its cantons.
        assert not [code for code in analyst if code.startswith("2")]
        assert analyst_payload["rolled_up"]["2"]["display"] == f"<{K}"
        assert "Alajuela" in analyst_payload["rolled_up"]["2"]["label"]
    canton_2024 = selectors.crosstab(
        measure="accredited_persons", dims=["recruitment_canton"], year_from=2024, year_to=2024
    )
    assert analyst["101"]["value"] == published(canton_2024[("101",)])
    assert small_values_in_chart(analyst_payload) == []
    coordinator = data.client_for(data.coordinator_b).get(url).json()["areas"]
    assert coordinator["201"]["value"] == 3 and coordinator["101"]["value"] == GIRLS_NI_SOCIAL_2024 + 6
    assert coordinator["202"]["value"] == 0  # a canton of Alajuela with nobody: exact, not rolled up
    detailed = data.client_for(data.analyst_a).get(chart + "?year_from=2023&year_to=2023").json()["areas"]
    canton_2023 = selectors.crosstab(
        measure="accredited_persons", dims=["recruitment_canton"], year_from=2023, year_to=2023
    )
    assert (canton_2023[("101",)], canton_2023[("201",)]) == (20, 8)
    assert detailed["101"]["value"] == published(canton_2023[("101",)])
    assert detailed["201"]["value"] == published(canton_2023[("201",)]) and detailed["202"]["value"] == 0

    page = "/reports/maps/?year_from=2024&year_to=2024"
    html = data.client_for(data.analyst_b).get(page).content.decode()
    assert "Víctimas acreditadas por cantón de captación" in html
    assert "cantón del distrito donde la persona fue captada" in html  # the definition is on the page
    assert 'data-chart-url="/reports/chart/map-recruitment-canton/' in html
    assert small_counts_in_html(html) == []
    exact = data.client_for(data.coordinator_a).get(page).content.decode()
    assert "Víctimas acreditadas por cantón de captación" in exact
    assert small_counts_in_html(exact) != []

    # The canton of recruitment is one-way only: with a profile filter the map says why it is not drawn.
    filtered = data.client_for(data.analyst_a).get(
        reverse("indicators:chart", args=["map-recruitment-canton"]) + "?sex=F"
    )
    assert filtered.status_code == 400
    assert "cantones de captación" in filtered.json()["error"]


@pytest.mark.django_db
def test_cached_pages_never_cross_audiences(data):
    """The rendered page is cached per audience: whoever asks first, the other audience gets its own figures."""
    url = "/reports/disaggregations/nationality/?measure=received"
    analyst, coordinator = data.client_for(data.analyst_a), data.client_for(data.coordinator_b)
    first = analyst.get(url).content.decode()
    exact = coordinator.get(url).content.decode()
    again = analyst.get(url).content.decode()
    assert small_counts_in_html(first) == [] and small_counts_in_html(again) == []
    assert small_counts_in_html(exact) != []

    assert main_content(first) == main_content(again)


@pytest.mark.django_db
def test_a_page_whose_cache_is_cleared_while_it_renders_keeps_its_figures(data, monkeypatch):
    """The page cache is one layer (indicators.views.cached_page): the content a request found is the content
    it shows. With two layers (a look at the template fragment, then a render without the figures' context), a
    fragment evicted in between gave a page without figures, and cached it for ten minutes."""
    from django.core.cache import cache

    # Patched where the page cache looks it up (indicators/views/base.py), and checked to be reached: a patch
    # of a name nothing calls would let this pass without an eviction.
    from indicators.views import base

    client = data.client_for(data.analyst_a)
    first = client.get("/reports/").content.decode()
    render = base.render
    evictions = []

    def render_after_eviction(*args, **kwargs):
        cache.clear()
        evictions.append(args[1])
        return render(*args, **kwargs)

    monkeypatch.setattr(base, "render", render_after_eviction)
    during = client.get("/reports/").content.decode()
    monkeypatch.undo()
    after = client.get("/reports/").content.decode()
    assert evictions == ["indicators/dashboard.html"]
    assert 'data-testid="kpi-received"' in first
    for page in (during, after):
        assert main_content(page) == main_content(first)


@pytest.mark.django_db
def test_sdg_rate_uses_the_population_an_admin_entered(data):
    from records.models import Code, CodeList, Population

    Population.objects.create(
        year=2024,
        sex=Code.objects.get(list=CodeList.SEX, code="F"),
        age_group=Code.objects.get(list=CodeList.AGE_GROUP, code="12-17"),
        population=200_000,
        source="test",
    )
    from tests.report_data import reset_report_caches

    reset_report_caches()
    rows = list(
        csv.reader(
            io.StringIO(
                data.client_for(data.analyst_a)
                .get(reverse("indicators:export", args=["sdg-16-2-2-sex-age", "csv"]))
                .content.decode("utf-8-sig")
            )
        )
    )
    girls = next(
        r for r in rows if r[:3] == ["2024", "Mujer", "12 a 17 años"] or r[:3] == ["2024", "Female", "12 to 17 years"]
    )
    # 9 accredited girls aged 12 to 17 in 2024, as analysts see them (perturbed), per 100,000 of 200,000: the rate
    # is computed from the published count (9 would give 4.50); the population is shown beside it.
    exact = selectors.crosstab(measure="accredited_persons", dims=["sex", "age_group"], year_from=2024, year_to=2024)
    shown = published(exact[("F", "12-17")])
    assert exact[("F", "12-17")] == 9 and girls[3] == str(shown)
    assert girls[5] == f"{shown / 2:.2f}"


@pytest.mark.django_db
def test_the_same_figure_is_the_same_on_the_page_chart_csv_xlsx_and_api(data):
    """One perturbation for the whole release: the sex x age-group cross-tab as an analyst reads it on the
    page (HTML), in the chart data, in CSV, in XLSX and in the API; and the total of accredited victims as the
    cross-tab's grand total, the dashboard's key figure and the API's by-year total (the same records, so the
    same cell key and the same value, whichever way the figure is assembled)."""
    client = data.client_for(data.analyst_a)
    query = "?dims=sex&dims=age_group&measure=accredited_persons&year_from=2024&year_to=2024"
    exact = selectors.crosstab(measure="accredited_persons", dims=["sex", "age_group"], year_from=2024, year_to=2024)
    expected = {key: str(published(n)) if published(n) is not None else f"<{K}" for key, n in exact.items()}
    girls = expected[("F", "12-17")]

    csv_rows = csv_table(client.get(reverse("indicators:export", args=["crosstab", "csv"]) + query).content)
    header = csv_rows[0]
    female = next(r for r in csv_rows if r[0] in ("Mujer", "Female"))
    assert female[header.index(next(h for h in header if h in ("12 a 17 años", "12 to 17 years")))] == girls

    sheet = load_workbook(
        io.BytesIO(client.get(reverse("indicators:export", args=["crosstab", "xlsx"]) + query).content)
    ).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    xlsx_header = next(r for r in values if any(v in ("12 a 17 años", "12 to 17 years") for v in r))
    xlsx_female = next(r for r in values if r and r[0] in ("Mujer", "Female"))
    column = next(i for i, v in enumerate(xlsx_header) if v in ("12 a 17 años", "12 to 17 years"))
    assert str(xlsx_female[column]) == girls

    chart = client.get(reverse("indicators:chart", args=["crosstab"]) + query).json()
    dataset = next(d for d in chart["datasets"] if d["label"] in ("12 a 17 años", "12 to 17 years"))
    assert (
        dataset["display"][chart["labels"].index(next(lab for lab in chart["labels"] if lab in ("Mujer", "Female")))]
        == girls
    )

    html = client.get("/reports/intersections/" + query).content.decode()
    assert f">{girls}<" in html.replace(" ", "").replace("\n", "") or f">{girls.replace('<', '&lt;')}<" in html.replace(
        " ", ""
    ).replace("\n", "")

    api = client.get(
        "/api/v1/indicators/crosstab/?dims=sex,age_group&measure=accredited_persons&year_from=2024&year_to=2024"
    ).json()
    columns = [c["code"] for c in api["columns"]]
    for row in api["rows"]:
        for code, cell in zip(columns, row["cells"], strict=True):
            assert cell["display"] == expected.get((row["key"][0], code), "0")

    total = str(published(selectors.measure_by_year(measure="accredited_persons", year_from=2024, year_to=2024)[2024]))
    assert api["grand_total"]["display"] == total
    by_year = client.get("/api/v1/indicators/by-year/?measure=accredited_persons&year_from=2024&year_to=2024").json()
    assert by_year["grand_total"]["display"] == total
    dashboard = client.get("/reports/?year_from=2024&year_to=2024").content.decode()
    assert re.search(r'class="kpi-value[^"]*">\s*' + total + r"\s*<", dashboard)
