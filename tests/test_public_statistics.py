"""The public statistics page (/estadisticas/) over the known report data set (tests/report_data.py): open
without login and the same for everyone, every figure published at the public threshold with the analysts'
perturbation, fixed tables (the address changes nothing), CSV files that carry their title, years,
protection and source, cached until the next recompute, and no inline script or style (CSP)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
from django.conf import settings
from django.http import QueryDict
from django.urls import reverse

from indicators import catalogue, disclosure, public, selectors
from indicators import services as indicator_services
from indicators.forms import Filters
from indicators.reporting import PUBLIC, audience
from records.models import Status
from tests.indicator_factories import application, person
from tests.report_data import K
from tests.test_security_headers import _assert_csp, inline_script_problems, inline_style_problems

pytestmark = pytest.mark.xdist_group("report_data_public")

PERSONS = "accredited_persons"


def _k_public() -> int:
    return settings.DISCLOSURE_K_PUBLIC


def _main(html: str) -> str:
    """The page's own content (navigation and footer left out: they differ for a logged-in user)."""
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def _csv(client, slug: str) -> list[list[str]]:
    response = client.get(reverse("public:csv", args=[slug]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _table_rows(rows: list[list[str]]) -> list[list[str]]:
    """The table of a public CSV: the rows after the blank line that ends its notes."""
    return rows[rows.index([]) + 1 :]


# --- No data: the page still answers, and says so ---------------------------------------------------------------


@pytest.mark.django_db
def test_without_indicators_the_page_answers_and_says_there_is_no_data(client):
    from tests.report_data import reset_report_caches

    reset_report_caches()
    response = client.get("/estadisticas/")
    assert response.status_code == 200
    assert "Estadísticas públicas" in response.content.decode()


# --- Over the report data set ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_public_threshold_is_the_settings_and_never_below_the_analysts(settings):
    settings.DISCLOSURE_K = 5
    settings.DISCLOSURE_K_PUBLIC = 10
    assert disclosure.threshold(disclosure.PUBLIC) == 10
    assert disclosure.threshold(disclosure.ANALYSTS) == 5
    assert audience(PUBLIC) == (False, 10)
    settings.DISCLOSURE_K_PUBLIC = 3  # a misconfiguration: public figures would show what analysts see hidden
    assert disclosure.threshold(disclosure.PUBLIC) == 5
    with pytest.raises(ValueError):
        disclosure.threshold("everyone")


def test_anonymous_visitors_open_the_page_its_protection_page_and_files(report_data, client):
    response = client.get("/estadisticas/")
    assert response.status_code == 200
    html = response.content.decode()
    for slug in public.SLUGS:
        assert f'data-testid="table-{slug}"' in html
        assert reverse("public:csv", args=[slug]) in html
    assert reverse("public:protection") in html
    assert "&lt;10" in html  # the public threshold, not the analysts' k
    protection = client.get(reverse("public:protection"))
    assert protection.status_code == 200
    text = protection.content.decode()
    assert "&lt;10" in text and reverse("public:statistics") in text
    geo = client.get(reverse("public:map_data"))
    assert geo.status_code == 200 and json.loads(geo.content)["level"] == "province"
    assert client.get(reverse("public:csv", args=["dimension-sex"])).status_code == 404


def test_the_login_page_and_the_anonymous_navigation_link_to_it(report_data, client):
    page = client.get(reverse("accounts:login")).content.decode()
    assert page.count(f'href="{reverse("public:statistics")}"') == 2  # the navigation and the login card
    assert "Estadísticas públicas" in page


def _compare(table, exact_of, *, k: int) -> tuple[int, int]:
    """Check each cell of a public table against disclosure.protect_count of its exact count at the public k;
    return how many cells were compared and how many of them the analysts' k would have shown."""
    compared = shown_to_analysts = 0
    for i, row_key in enumerate(table.row_keys):
        for j, col_key in enumerate(table.col_keys):
            exact = exact_of(row_key, col_key)
            assert table.cells[i][j] == disclosure.protect_count(exact, k=k), (row_key, col_key)
            compared += 1
            if table.cells[i][j].hidden and not disclosure.protect_count(exact, k=K).hidden:
                shown_to_analysts += 1
    return compared, shown_to_analysts


def _grouped(dimension: str, group_of) -> dict:
    groups: dict = {}
    for (year, code), n in selectors.crosstab_by_year(measure=PERSONS, dims=[dimension]).items():
        key = (year, group_of(code))
        groups[key] = groups.get(key, disclosure.Count(0)) + n
    return groups


def test_every_cell_is_published_at_the_public_threshold(report_data, client):
    """Each cell of the tables by sex, by child/adult and by region of nationality is what
    disclosure.protect_count gives its exact count (with its key) at the public k, never the analysts' k."""
    k = _k_public()
    release = public.release()
    by_sex = selectors.crosstab_by_year(measure=PERSONS, dims=["sex"])
    children = _grouped("victim_group", lambda code: public.CHILD_ADULT.get(code, ""))
    regions = _grouped("nationality", public._region_of)
    total = hidden_more = 0
    for slug, exact in (
        ("public-sex", by_sex),
        ("public-child-adult", children),
        ("public-nationality-region", regions),
    ):
        compared, shown_to_analysts = _compare(
            release.table(slug).report.table,
            lambda row, col, e=exact: e.get((col, row), disclosure.Count(0)),
            k=k,
        )
        total += compared
        hidden_more += shown_to_analysts
    assert total >= 30
    assert hidden_more >= 1  # cells of 5 to 9 (after perturbation) that analysts see and the public does not
    # The page shows those cells, and no figure from 1 to k-1 anywhere in its tables.
    html = _main(client.get("/estadisticas/").content.decode())
    cells = re.findall(r'<td class="text-end[^"]*">([^<]*)</td>', html)
    assert len(cells) >= total
    assert not [c for c in cells if c.strip().isdigit() and 1 <= int(c) < k]
    rows = _table_rows(_csv(client, "public-sex"))
    assert rows == release.table("public-sex").report.export_rows()


def test_a_cell_of_ten_or_more_has_the_analysts_value(report_data, client):
    """Women and girls accredited in 2023 (20 persons): the public table shows the very value of the analysts'
    disaggregation by sex for 2023, perturbation included."""
    exact = selectors.crosstab_by_year(measure=PERSONS, dims=["sex"])[(2023, "F")]
    assert exact >= _k_public()
    analysts = catalogue.build("dimension-sex", report_data.analyst_a, Filters(year_from=2023, year_to=2023), {})
    analysts_cell = analysts.table.cell("F", disclosure.SERIES_COLUMN)
    page = client.get("/reports/disaggregations/sex/?year_from=2023&year_to=2023")
    assert page.status_code == 302  # the analysts' page itself needs a login
    report = public.release().table("public-sex").report
    public_cell = report.table.cell("F", 2023)
    assert not public_cell.hidden
    assert public_cell.value == analysts_cell.value == disclosure.protect_count(exact, k=_k_public()).value
    # The key figures carry the same value as the analysts' figures by year.
    by_year = catalogue.build("measure-by-year", report_data.analyst_a, Filters(), QueryDict(f"measure={PERSONS}"))
    headline = public.release().table("public-headline").report
    for year, row in zip(by_year.table.row_keys, by_year.table.cells, strict=True):
        if not row[0].hidden and row[0].value >= _k_public():
            assert headline.table.cell(PERSONS, year).value == row[0].value


def test_grouped_tables_are_the_sums_of_their_codes_with_their_keys(report_data):
    """Children and adults, and the regions of nationality, are cells of their own: the exact sum of their codes'
    counts (with the sum of their keys), protected once."""
    k = _k_public()
    groups = selectors.crosstab_by_year(measure=PERSONS, dims=["victim_group"])
    children_2024 = sum((n for (y, g), n in groups.items() if y == 2024 and g in ("GIRL", "BOY")), disclosure.Count(0))
    assert int(children_2024) == 9  # the report data's girls of 2024
    report = public.release().table("public-child-adult").report
    assert report.table.cell("CHILD", 2024) == disclosure.protect_count(children_2024, k=k)
    nationalities = selectors.crosstab_by_year(measure=PERSONS, dims=["nationality"])
    regions = public.release().table("public-nationality-region").report
    central_2024 = sum(
        (n for (y, c), n in nationalities.items() if y == 2024 and c in ("NI", "PA", "HN", "GT", "SV", "BZ", "MX")),
        disclosure.Count(0),
    )
    assert regions.table.cell("CENTRAL_AMERICA", 2024) == disclosure.protect_count(central_2024, k=k)
    national_2023 = nationalities[(2023, "CR")]
    assert regions.table.cell(public.NATIONAL, 2023) == disclosure.protect_count(national_2023, k=k)
    assert regions.row_label(public.NATIONAL) == "Costa Rica"
    assert regions.row_label("SOUTH_AMERICA") == "Sudamérica"


def test_the_csv_files_carry_title_years_protection_and_source(report_data, client):
    release = public.release()
    for slug in public.SLUGS:
        rows = _csv(client, slug)
        report = release.table(slug).report
        assert rows[0] == [report.title]
        notes = {row[0]: row[1] for row in rows[1 : rows.index([])]}
        assert notes["Años"] == "2023–2025"
        assert f'"<{_k_public()}"' in notes["Protección"]
        assert notes["Fuente"] == "CONATT, portal de indicadores"
        assert _table_rows(rows) == report.export_rows()
    response = client.get(reverse("public:csv", args=["public-sex"]))
    assert 'filename="conatt-public-sex.csv"' in response["Content-Disposition"]


def test_the_address_changes_nothing(report_data, client):
    """No filter is read from the address: any parameter gives the same page and the same files."""
    plain = _main(client.get("/estadisticas/").content.decode())
    for query in ("?year_from=2024&year_to=2024", "?sex=F&nationality=NI", "?dims=a&dims=b&measure=x", "?x=%00"):
        response = client.get(f"/estadisticas/{query}")
        if "%00" in query:
            assert response.status_code == 400  # NUL bytes are refused before any view
            continue
        assert response.status_code == 200
        assert _main(response.content.decode()) == plain
    assert (
        client.get(reverse("public:csv", args=["public-sex"]) + "?year_from=2025").content
        == client.get(reverse("public:csv", args=["public-sex"])).content
    )


def test_the_page_is_the_same_for_a_logged_in_coordinator_and_shows_no_record(report_data, client):
    anonymous = _main(client.get("/estadisticas/").content.decode())
    coordinator = report_data.client_for(report_data.coordinator_a)
    response = coordinator.get("/estadisticas/")
    assert response.status_code == 200
    assert _main(response.content.decode()) == anonymous
    assert (
        coordinator.get(reverse("public:csv", args=["public-sex"])).content
        == client.get(reverse("public:csv", args=["public-sex"])).content
    )
    # Nothing of a record: no case reference, no person key, no link to a case.
    assert "RPT-" not in anonymous and "report-test-" not in anonymous and "/records/" not in anonymous
    assert public.release().table("public-sex").report.exact is False


def test_the_sdg_rate_says_when_population_is_missing_and_uses_the_published_count(report_data, client):
    from records.models import Code, CodeList, Population

    sdg = public.release().table("public-sdg-16-2-2").report
    assert set(public.release().population_missing) == {2023, 2024, 2025}
    rates = dict(sdg.derived)["Víctimas por 100 000"]
    assert set(rates) == {"sin datos de población"}
    assert "No se ha ingresado la población" in sdg.note

    Population.objects.create(
        year=2023,
        sex=Code.objects.get(list=CodeList.SEX, code="F"),
        age_group=Code.objects.filter(list=CodeList.AGE_GROUP).first(),
        population=2_000_000,
    )
    indicator_services.recompute_full()  # a new version: the cached release is not reused
    catalogue.caching._version_seen = (0.0, None)
    release = public.release()
    sdg = release.table("public-sdg-16-2-2").report
    persons_2023 = release.table("public-headline").report.table.cell(PERSONS, 2023)
    rates = dict(zip(sdg.table.row_keys, dict(sdg.derived)["Víctimas por 100 000"], strict=True))
    expected = f"{persons_2023.value * 100_000 / 2_000_000:.2f}"
    assert rates[2023] == expected
    assert rates[2024] == "sin datos de población"
    assert "2024, 2025" in sdg.note


def test_the_page_is_cached_until_a_recompute(report_data, client, monkeypatch):
    first = client.get("/estadisticas/").content.decode()
    builds = []
    real_build = public._build
    monkeypatch.setattr(public, "_build", lambda: builds.append(1) or real_build())
    assert _main(client.get("/estadisticas/").content.decode()) == _main(first)
    client.get(reverse("public:csv", args=["public-sex"]))
    assert builds == []  # served from the cache: neither the page nor the file built anything

    # New records change nothing until the indicators are recomputed; the recompute is seen at once.
    for i in range(30):
        application(
            institution=report_data.institution_a,
            person=person(report_data.institution_a, f"public-cache-{i}"),
            received_on=date(2023, 5, 2),
            status=Status.ACCREDITED,
            decided_on=date(2023, 5, 20),
            sex="M",
            age=30,
        )
    assert _main(client.get("/estadisticas/").content.decode()) == _main(first)
    indicator_services.recompute_full()
    catalogue.caching._version_seen = (0.0, None)  # the version is re-read every 2 s per process; do not wait
    after = client.get("/estadisticas/").content.decode()
    assert builds == [1]
    men_2023 = public.release().table("public-sex").report.table.cell("M", 2023)
    assert men_2023.value is not None and men_2023.value >= 30
    assert _main(after) != _main(first)


def test_the_page_whose_cache_is_cleared_while_it_renders_keeps_its_figures(report_data, client, monkeypatch):
    """One layer of page cache (``public_views.statistics``): the content a request found is what it shows, even
    when the cache is emptied before the template renders (with a look at the template fragment first, then a
    render without the release, that page had no figures)."""
    from django.core.cache import cache

    from indicators import public_views

    first = client.get("/estadisticas/").content.decode()
    render = public_views.render

    def render_after_eviction(*args, **kwargs):
        cache.clear()
        return render(*args, **kwargs)

    monkeypatch.setattr(public_views, "render", render_after_eviction)
    during = client.get("/estadisticas/").content.decode()
    monkeypatch.undo()
    assert 'data-testid="data-as-of"' in _main(first)
    assert _main(during) == _main(first)
    assert _main(client.get("/estadisticas/").content.decode()) == _main(first)


def test_the_page_has_no_inline_script_or_style(report_data, client):
    for url in ("/estadisticas/", reverse("public:protection")):
        response = client.get(url)
        _assert_csp(response)
        html = response.content.decode()
        assert inline_script_problems(html) == []
        assert inline_style_problems(html) == []
