"""An analyst uses the report pages in a real browser: Playwright drives Debian's chromium headless against
pytest-django's live server. Screenshots are kept in test-artifacts/ for people to look at.

Skipped (not errors) where Playwright or Debian's chromium is missing (tests/browser_support.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser_support import needs_browser, watched_page
from tests.cast import PASSWORD
from tests.export_support import csv_table
from tests.report_data import K, seed_report_data

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = needs_browser


@pytest.fixture
def browser_page(live_server, chromium_browser):
    ARTIFACTS.mkdir(exist_ok=True)
    options = {"viewport": {"width": 1400, "height": 1000}, "accept_downloads": True, "locale": "es-CR"}
    with watched_page(chromium_browser, **options) as page:
        yield page


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"reports-{name}.png"), full_page=True)


def _no_small_counts(text: str) -> list[str]:
    """Whole numbers from 1 to k-1 standing alone in a table cell's text."""
    return [t for t in re.findall(r"(?<![\w<.,%-])\d+(?![\w.,%])", text) if 1 <= int(t) < K]


def _wait_for_charts(page) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart-url]')].every(c => c.dataset.chartReady)",
        timeout=15_000,
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_analyst_filters_crosses_maps_and_downloads(cast, live_server, browser_page, settings):
    settings.DISCLOSURE_K = K
    seed_report_data(cast)
    page = browser_page
    base = live_server.url

    # Log in as an analyst.
    page.goto(f"{base}/accounts/login/?next=/reports/")
    page.fill("#id_username", cast.analyst_a.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"^[^?]*/reports/$"))
    _wait_for_charts(page)
    _shot(page, "01-dashboard")
    assert page.locator("[data-testid=data-as-of]").inner_text(timeout=5_000).strip()

    # Filter: a year range and a profile value; the filters go into the address.
    page.locator("details.report-filters summary").click()
    page.select_option("#id_year_from", "2024")
    page.select_option("#id_year_to", "2024")
    page.select_option("#id_sex", "F")
    page.click("#report-filters button[type=submit]")
    page.wait_for_url(re.compile(r".*year_from=2024.*"))
    assert "sex=F" in page.url
    assert "year_to=2024" in page.url
    _wait_for_charts(page)
    _shot(page, "02-dashboard-filtered")
    tables = page.locator("table.report-table").all_inner_texts()
    assert tables and not any(_no_small_counts(t) for t in tables)

    # A cross-tab of three dimensions; a fourth cannot be ticked.
    page.goto(f"{base}/reports/intersections/")
    for key in ("sex", "age_group", "nationality"):
        page.check(f"input[name=dims][value={key}]")
    assert page.locator("input[name=dims][value=migration_status]").is_disabled()
    page.click("#crosstab-form button[type=submit]")
    page.wait_for_selector("[data-testid=table-crosstab]")
    _wait_for_charts(page)
    crosstab = page.locator("[data-testid=table-crosstab]").inner_text()
    assert _no_small_counts(crosstab) == []
    assert "<5" in crosstab
    _shot(page, "03-intersections")

    # The maps draw every choropleth (provinces, cantons of residence, cantons of recruitment) and credit the
    # boundaries.
    page.goto(f"{base}/reports/maps/")
    _wait_for_charts(page)
    assert "IGN – SNIT" in page.content()
    assert page.locator("canvas[data-chart-ready=true]").count() == 3
    _shot(page, "04-maps")

    # Download the cross-tab as CSV: same protected figures.
    page.goto(f"{base}/reports/intersections/?dims=sex&dims=nationality")
    with page.expect_download() as download_info:
        page.click("[data-testid=csv-crosstab]")
    download = download_info.value
    target = ARTIFACTS / "reports-crosstab.csv"
    download.save_as(str(target))
    rows = csv_table(target.read_bytes())  # after the "# key,value" rows that say what the file holds
    cells = [c for row in rows[1:] for c in row[1:] if c]
    assert cells and not [c for c in cells if c.isdigit() and 1 <= int(c) < K]

    # Every chart can be saved as PNG from its canvas.
    page.goto(f"{base}/reports/")
    _wait_for_charts(page)
    with page.expect_download() as png_info:
        page.click("[data-download-chart=chart-by-year]")
    assert png_info.value.suggested_filename.endswith(".png")

    assert page.errors == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_report_page_renders_without_script_errors(cast, live_server, browser_page, settings):
    settings.DISCLOSURE_K = K
    seed_report_data(cast)
    page = browser_page
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", cast.analyst_b.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"^[^?]*/$"))
    for name, path in [
        ("05-disaggregation", "/reports/disaggregations/nationality/"),
        ("06-profiles", "/reports/profiles/"),
        ("07-relations", "/reports/relations/"),
        ("08-quality", "/reports/quality/"),
        ("09-international", "/reports/international/"),
        ("10-refused", "/reports/intersections/?dims=sex&dims=age_group&dims=nationality&dims=migration_status"),
    ]:
        page.goto(base + path)
        _wait_for_charts(page)
        body = page.locator("main").inner_text()
        _shot(page, name)
        assert page.locator("[data-chart-ready=error]").count() == 0, (name, page.errors)
        for table in page.locator("table.report-table").all_inner_texts():
            assert _no_small_counts(table) == [], name
        _shot(page, name)
    assert "tres dimensiones" in body or "three dimensions" in body
    assert page.errors == []


def _login(page, base: str, user, target: str) -> None:
    page.goto(f"{base}/accounts/login/?next={target}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"^[^?]*" + re.escape(target.split("?")[0]) + r"(\?.*)?$"))


_CHART = """(id) => {
  const chart = Chart.getChart(document.getElementById(id));
  return {
    type: chart.config.type,
    labels: chart.data.labels,
    datasets: chart.data.datasets.map(d => ({label: d.label, data: d.data, display: d.display})),
    legend: chart.legend.legendItems.map(i => i.text),
    marks: chart.hiddenMarks,
  };
}"""
HIDDEN_LEGEND = f"Valores de 1 a {K - 1}, mostrados como <{K}"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_trends_page_draws_lines_and_marks_hidden_values(cast, live_server, browser_page, settings):
    """The trends page draws the key figures and a line per nationality over the years; Panamá's one person of
    2025 (always "<5") is a gap in its line with a hatched "<5" mark and a legend entry, never a point at 0."""
    settings.DISCLOSURE_K = K
    seed_report_data(cast)
    page = browser_page
    _login(page, live_server.url, cast.analyst_a, "/reports/trends/?dims=nationality")
    _wait_for_charts(page)
    chart = page.evaluate(_CHART, "chart-trend")
    assert chart["type"] == "line"
    assert chart["labels"] == ["2023", "2024", "2025"]
    panama = next(d for d in chart["datasets"] if d["label"] == "Panamá")
    assert panama["data"] == [0, 0, None] and panama["display"][2] == f"<{K}"
    assert ("Panamá", 2) in {(m["label"], m["index"]) for m in chart["marks"]}
    assert HIDDEN_LEGEND in chart["legend"]
    headline = page.evaluate(_CHART, "chart-trend-headline")
    assert headline["type"] == "line" and len(headline["datasets"]) == 3
    assert page.locator("[data-testid=table-trend]").is_visible()
    assert page.locator("[data-testid=table-trend-headline]").is_visible()
    assert "Cambio 2025" in page.locator("[data-testid=table-trend]").inner_text()
    assert page.locator("nav .nav-link.active").inner_text() == "Tendencias"
    assert not page.errors, page.errors
    page.locator("#report-trend").scroll_into_view_if_needed()
    _shot(page, "trends")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_hidden_bar_is_drawn_as_hidden_not_as_zero(cast, live_server, browser_page, settings):
    """Issue 15, point 7: on the disaggregation page Panamá's bar is hidden ("<5"): a hatched mark labelled
    "<5" stands in its place with a legend entry; a true zero (no bar) has no mark."""
    settings.DISCLOSURE_K = K
    seed_report_data(cast)
    page = browser_page
    _login(page, live_server.url, cast.analyst_a, "/reports/disaggregations/nationality/")
    _wait_for_charts(page)
    chart = page.evaluate(_CHART, "chart-dimension-nationality")
    assert chart["type"] == "bar"
    index = chart["labels"].index("Panamá")
    assert chart["datasets"][0]["data"][index] is None
    assert [(m["label"], m["index"]) for m in chart["marks"]] == [(chart["datasets"][0]["label"], index)]
    assert HIDDEN_LEGEND in chart["legend"]
    assert not page.errors, page.errors
    _shot(page, "hidden-bar")
    # The cross-tab's stacked bars mark their hidden segments too.
    page.goto(f"{live_server.url}/reports/intersections/?dims=nationality&dims=sex")
    _wait_for_charts(page)
    stacked = page.evaluate(_CHART, "chart-crosstab")
    hidden = [
        (d["label"], i) for d in stacked["datasets"] for i, v in enumerate(d["data"]) if v is None and d["display"][i]
    ]
    assert hidden and sorted((m["label"], m["index"]) for m in stacked["marks"]) == sorted(hidden)
    assert HIDDEN_LEGEND in stacked["legend"]
    _shot(page, "hidden-stacked")
