"""Drill-down, honest maps and filters that cannot combine (issue 15, points 2 to 4), over the report data set
(tests/report_data.py): every cell's link opens the report filtered to that cell, and that report publishes the
same value for it (a hidden cell stays hidden: the attack of an analyst who drills into "<5" finds the cell key
method's figure again, nothing more); a rolled-up province is drawn as one area with its own figure; the filter
form greys out what the selectors would refuse, by the selectors' own rule."""

from __future__ import annotations

import re
from itertools import combinations
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from django.http import QueryDict
from django.urls import resolve, reverse

from indicators import catalogue, disclosure, drilldown, selectors
from indicators.forms import Filters
from tests.report_data import K

pytestmark = pytest.mark.xdist_group("report_data_drilldown")


def _links(html: str) -> dict[str, str]:
    """Drill-down links of a page: address -> the text of the link (the figure)."""
    return {
        href.replace("&amp;", "&"): text
        for href, text in re.findall(r'<a href="([^"]+)" class="drill-link" data-testid="drill">([^<]*)</a>', html)
    }


def _target_report(link: str, user):
    """The report a drill-down link opens, built as its page builds it (the same form, catalogue and
    protection), with the slug of the block the link is about."""
    parts = urlsplit(link)
    query = QueryDict(parts.query)
    filters = catalogue.filter_form(query).filters()
    match = resolve(parts.path)
    slug = {
        "indicators:dashboard": "by-year",
        "indicators:intersections": "crosstab",
        "indicators:maps": "map-canton",
    }.get(match.view_name)
    if match.view_name == "indicators:dimension":
        slug = f"dimension-{match.kwargs['key']}"
    if match.view_name == "indicators:relations":
        slug = parts.fragment.removeprefix("report-")
    return catalogue.build(slug, user, filters, query), filters, query


# --- Table cells and chart values: links, and what they open ---------------------------------------------------


@pytest.mark.django_db
def test_a_table_cell_is_a_link_to_the_same_report_filtered_to_it(report_data):
    html = report_data.client_for(report_data.analyst_a).get("/reports/disaggregations/sex/").content.decode()
    links = _links(html)
    assert "/reports/disaggregations/sex/?sex=F&measure=accredited_persons" in links
    # "Not recorded" cannot be a filter of the page's form, and a true zero has nothing to open.
    assert not [link for link in links if link.endswith("sex=&measure=accredited_persons")]
    assert "0" not in links.values()
    # Already filtered to the cell: no link to the page itself.
    again = report_data.client_for(report_data.analyst_a).get("/reports/disaggregations/sex/?sex=F").content.decode()
    assert not [link for link in _links(again) if "sex=F" in link]


@pytest.mark.django_db
def test_intersections_overview_relations_and_maps_link_their_cells(report_data):
    client = report_data.client_for(report_data.analyst_a)
    crosstab = _links(client.get("/reports/intersections/?dims=sex&dims=nationality").content.decode())
    assert (
        "/reports/intersections/?nationality=NI&sex=F&dims=sex&dims=nationality&measure=accredited_persons" in crosstab
    )
    overview = _links(client.get("/reports/?sex=F").content.decode())
    assert "/reports/?year_from=2024&year_to=2024&sex=F" in overview
    relations = _links(client.get("/reports/relations/").content.decode())
    assert any(
        link.startswith("/reports/relations/?") and link.endswith("#report-relation-means") for link in relations
    )
    maps = _links(client.get("/reports/maps/").content.decode())
    assert "/reports/maps/?zoom=1#report-map-canton" in maps  # a province leads to its cantons
    assert "/reports/?residence_canton=101" in maps  # a canton to the overview of that canton


@pytest.mark.django_db
def test_chart_values_carry_the_same_links_as_the_table(report_data):
    client = report_data.client_for(report_data.analyst_a)
    html = client.get("/reports/disaggregations/nationality/").content.decode()
    chart = client.get(reverse("indicators:chart", args=["dimension-nationality"])).json()
    links = [link for link in chart["datasets"][0]["links"] if link]
    assert links and set(links) == set(_links(html))
    matrix = client.get(reverse("indicators:chart", args=["relation-means"])).json()
    assert [c for c in matrix["cells"] if c["url"]] and all(c["url"] is None for c in matrix["cells"] if c["v"] == 0)
    by_year = client.get(reverse("indicators:chart", args=["by-year"])).json()
    assert by_year["datasets"][0]["links"][0] == "/reports/?year_from=2023&year_to=2023"


def _cells_with_links(report, links):
    for i, row_key in enumerate(report.table.row_keys):
        for j, col_key in enumerate(report.table.col_keys):
            if links[i][j]:
                yield row_key, col_key, report.table.cells[i][j], links[i][j]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "slug, query",
    [
        ("dimension-nationality", ""),
        ("dimension-nationality", "year_from=2025&year_to=2025"),
        ("dimension-residence_province", ""),
        ("crosstab", "dims=sex&dims=exploitation_form&measure=received"),
        ("crosstab", "dims=sex&dims=nationality"),
        ("crosstab", "dims=sex&dims=age_group&dims=nationality&year_from=2024&year_to=2024"),
        ("by-year", "nationality=PA"),
        ("relation-means", ""),
        ("map-canton", ""),
    ],
)
def test_drilling_into_a_cell_publishes_the_same_value_for_it_and_a_hidden_one_stays_hidden(report_data, slug, query):
    """The attacker clicks every cell, hidden ones first, and compares the filtered report with the page: the
    clicked cell and the filtered report's total are the very cell (the same records, so the same key and
    value as ``disclosure.protect_count`` of its exact count), never a new figure that would narrow "<k"."""
    analyst = report_data.analyst_a
    q = QueryDict(query)
    filters = catalogue.filter_form(q).filters()
    report = catalogue.build(slug, analyst, filters, q)
    links = drilldown.links(report, filters=filters, query=q)
    exact = catalogue.build(slug, report_data.coordinator_a, filters, q)
    hidden_drilled = 0
    cells = list(_cells_with_links(report, links))
    assert cells, "no link to follow"
    for row_key, col_key, cell, link in cells:
        target, target_filters, target_query = _target_report(link, analyst)
        assert target.exact is False
        if target.slug == "by-year" and slug != "by-year":
            # A canton opens the overview of that canton: its accredited victims over the same years.
            drilled = target.table.col_totals[target.table.col_keys.index(catalogue.DEFAULT_MEASURE)]
        elif slug == "by-year":
            drilled = target.table.cell(row_key, col_key)
        elif target.is_series:
            drilled = target.table.cell(row_key, disclosure.SERIES_COLUMN)
            # The filtered series holds the clicked cell alone (a single-valued dimension; a multi-valued one
            # filtered by its own value too): its total is the same cell.
            assert target.table.grand_total == cell
        else:
            drilled = target.table.cell(row_key, col_key)
        assert drilled == cell, link
        if cell.hidden:
            hidden_drilled += 1
            true_count = exact.table.cell(row_key, col_key).value
            assert disclosure.protect_count(_count_of(slug, row_key, col_key, filters, q), k=K) == drilled
            # A published 1..k-1 comes from a true count of 1 up to k - 1 + D (the noise may take it down).
            assert 1 <= true_count <= K - 1 + settings.DISCLOSURE_MAX_DEVIATION
        # Nothing from 1 to k-1 on the filtered report either.
        shown = [c.value for row in target.table.cells for c in row] + [target.table.grand_total.value]
        assert not [v for v in shown if v is not None and 1 <= v < K], link
    if slug in ("dimension-nationality", "crosstab", "by-year"):
        assert hidden_drilled, "the data set has hidden cells here: the attack must try them"


def _count_of(slug, row_key, col_key, filters: Filters, query):
    """The exact count (with its cell key) of one cell, from the selectors, as the page's builder reads it."""
    sel = catalogue._selector_filters(filters)
    measure = query.get("measure") or catalogue.DEFAULT_MEASURE
    if slug == "by-year":
        return selectors.measure_by_year(measure=col_key, year_from=row_key, year_to=row_key, filters=sel)[row_key]
    if slug.startswith("dimension-"):
        dim = slug.removeprefix("dimension-")
        return selectors.crosstab(
            measure=measure, dims=[dim], year_from=filters.year_from, year_to=filters.year_to, filters=sel
        )[(row_key,)]
    if slug in catalogue.CANTON_MAPS:
        return selectors.crosstab(
            measure=catalogue.DEFAULT_MEASURE,
            dims=["residence_canton"],
            year_from=filters.year_from,
            year_to=filters.year_to,
        )[(row_key,)]
    dims = query.getlist("dims")
    if slug in catalogue.RELATION_SLUGS:
        dims, measure = ["exploitation_form", slug.removeprefix("relation-")], catalogue.DEFAULT_MEASURE
    parts = (*(row_key if isinstance(row_key, tuple) else (row_key,)), col_key)
    return selectors.crosstab(
        measure=measure, dims=dims, year_from=filters.year_from, year_to=filters.year_to, filters=sel
    )[parts]


@pytest.mark.django_db
def test_no_link_where_the_filtered_report_would_be_refused(report_data):
    choices = drilldown.filter_choices()
    page = reverse("indicators:dashboard")
    three = Filters(values={"sex": "F", "nationality": "NI", "migration_status": "REGULAR"})
    # A fourth dimension, a derived pair (province and canton), "not recorded", a value that is not a choice.
    assert drilldown.filtered_address(page, three, {"institution": "INAMU"}, dims=[], choices=choices) is None
    province = Filters(values={"residence_province": "1"})
    assert drilldown.filtered_address(page, province, {"residence_canton": "101"}, dims=[], choices=choices) is None
    assert drilldown.filtered_address(page, Filters(), {"sex": ""}, dims=[], choices=choices) is None
    assert drilldown.filtered_address(page, Filters(), {"sex": "NOPE"}, dims=[], choices=choices) is None
    assert drilldown.filtered_address(page, Filters(), {"sex": "F"}, dims=[], choices=choices) == "/reports/?sex=F"


# --- Honest maps -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rolled_up_province_is_one_area_with_its_own_figure_and_the_colours_come_from_the_areas_drawn(report_data):
    client = report_data.client_for(report_data.analyst_a)
    payload = client.get(reverse("indicators:chart", args=["map-canton"])).json()
    provinces = catalogue.build("map-province", report_data.analyst_a, Filters(), QueryDict(""))
    cantons = catalogue.build("map-canton", report_data.analyst_a, Filters(), QueryDict(""))
    province_cell = {k: row[0] for k, row in zip(provinces.table.row_keys, provinces.table.cells, strict=True)}
    canton_cell = {k: row[0] for k, row in zip(cantons.table.row_keys, cantons.table.cells, strict=True)}
    # Limón (7) holds one hidden person: drawn once, as the province, with the province's own figure.
    assert set(payload["rolled_up"]) == {"7"}
    assert payload["rolled_up"]["7"]["display"] == province_cell["7"].display == f"<{K}"
    assert "Limón" in payload["rolled_up"]["7"]["label"] and payload["rolled_up_legend"]
    assert payload["rolled_up"]["7"]["url"] == "/reports/maps/?zoom=7#report-map-canton"
    # Every canton drawn shows its own figure: no province total painted on a canton (Osa's 186 for 9).
    assert payload["areas"] and not [c for c in payload["areas"] if c.startswith("7")]
    for code, area in payload["areas"].items():
        assert (area["value"], area["display"]) == (canton_cell[code].value, canton_cell[code].display), code
    # The values the colour scale is drawn from are the areas' own: the largest is a canton's, not San José's
    # province total (its cantons are drawn one by one).
    drawn = [a["value"] for a in [*payload["areas"].values(), *payload["rolled_up"].values()] if a["value"]]
    assert max(drawn) == max(c.value or 0 for c in canton_cell.values())
    html = client.get("/reports/maps/").content.decode()
    assert "Limón" in re.search(r'data-testid="note-map-canton">([^<]*)<', html).group(1)


@pytest.mark.django_db
def test_from_a_province_to_its_cantons(report_data):
    client = report_data.client_for(report_data.analyst_a)
    whole = catalogue.build("map-canton", report_data.analyst_a, Filters(), QueryDict(""))
    zoomed = catalogue.build("map-canton", report_data.analyst_a, Filters(), QueryDict("zoom=1"))
    assert zoomed.table.row_keys and all(str(k).startswith("1") for k in zoomed.table.row_keys)
    # A subset of the whole map's figures, and the province's own figure as its total: nothing new.
    for key, row in zip(zoomed.table.row_keys, zoomed.table.cells, strict=True):
        assert row[0] == whole.table.cell(key, disclosure.SERIES_COLUMN)
    province = catalogue.build("map-province", report_data.analyst_a, Filters(), QueryDict(""))
    assert province.table.cell("1", disclosure.SERIES_COLUMN).display in zoomed.note
    assert zoomed.show_totals_row is False
    payload = client.get(reverse("indicators:chart", args=["map-canton"]) + "?zoom=1").json()
    assert payload["zoom"] == "1" and set(payload["areas"]) == {str(k) for k in zoomed.table.row_keys}
    assert payload["rolled_up"] == {}
    refused = client.get(reverse("indicators:chart", args=["map-canton"]) + "?zoom=99")
    assert refused.status_code == 400
    page = client.get("/reports/maps/?zoom=1").content.decode()
    assert "San José" in page and 'data-testid="table-map-canton"' in page


# --- Filters that cannot combine -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_filter_form_greys_out_what_the_selectors_would_refuse(report_data):
    form = catalogue.filter_form(QueryDict(""))
    names = form.filter_names
    assert len(names) == 16
    refused = [p for p in combinations(names, 2) if not selectors.is_available(filters=dict.fromkeys(p, ""))]
    allowed = set(form.combinations_allowed())
    assert len(refused) == 44  # of 120 pairs, as the issue counted
    assert all("|".join(sorted(p)) not in allowed for p in refused)
    assert all("|".join(sorted(p)) in allowed for p in combinations(names, 2) if p not in refused)

    client = report_data.client_for(report_data.analyst_a)
    html = client.get("/reports/?residence_province=1").content.decode()
    canton = re.search(r'<select name="residence_canton"[^>]*>', html).group(0)
    assert 'data-greyed="true"' in canton and 'aria-describedby="id_residence_canton_helptext"' in canton
    options = re.search(r'<select name="residence_canton".*?</select>', html, re.S).group(0)
    assert '<option value="" selected>' in options and 'value="101" disabled' in options
    reason = re.search(r'id="id_residence_canton_helptext">([^<]*)<', html).group(1)
    assert reason == "No se puede combinar con Provincia de residencia."
    sex = re.search(r'<select name="sex"[^>]*>', html).group(0)
    assert "data-greyed" not in sex
    # Three chosen: every other filter is greyed, with the limit as the reason.
    three = client.get("/reports/?sex=F&nationality=NI&migration_status=REGULAR").content.decode()
    assert re.search(r'id="id_education_helptext">([^<]*)<', three).group(1) == (
        "Se pueden combinar como máximo tres filtros."
    )
    # The script gets the same rule.
    assert "data-combinations=" in html
    # The server still refuses the combination if it is sent anyway.
    refused_page = client.get("/reports/?residence_province=1&residence_canton=101").content.decode()
    assert 'data-testid="report-unavailable"' in refused_page


@pytest.mark.django_db
def test_drill_links_survive_a_round_trip_through_the_filter_form(report_data):
    """Every link of every report page parses through the page's own filter form (a link never leads to a
    refused address)."""
    client = report_data.client_for(report_data.analyst_a)
    pages = [
        "/reports/",
        "/reports/disaggregations/nationality/",
        "/reports/intersections/?dims=sex&dims=age_group&dims=nationality",
        "/reports/relations/",
        "/reports/maps/",
    ]
    for page in pages:
        for link in _links(client.get(page).content.decode()):
            parts = urlsplit(link)
            catalogue.filter_form(QueryDict(parts.query)).filters()  # raises InvalidFilters if refused
            response = client.get(f"{parts.path}?{parts.query}")
            assert response.status_code == 200, link
            assert dict(parse_qsl(parts.query))  # a filtered address
