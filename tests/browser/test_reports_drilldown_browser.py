"""An analyst explores the reports in a real browser (issue 15, points 2 to 4): a table cell, a bar and a map
area open the report filtered to what was clicked, a province opens its cantons, a rolled-up province is drawn as
one area with its own figure, and a filter that cannot be combined is greyed out with the reason before it is
chosen. Playwright drives Debian's chromium headless against the live server; screenshots in test-artifacts/.

Skipped (not errors) where Playwright or Debian's chromium is missing (tests/browser_support.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser_support import needs_browser, watched_page
from tests.cast import PASSWORD
from tests.report_data import K, seed_report_data

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = needs_browser


@pytest.fixture
def browser_page(live_server, chromium_browser):
    ARTIFACTS.mkdir(exist_ok=True)
    with watched_page(chromium_browser, viewport={"width": 1400, "height": 1000}, locale="es-CR") as page:
        yield page


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"drilldown-{name}.png"), full_page=True)


def _wait_for_charts(page) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart-url]')].every(c => c.dataset.chartReady)",
        timeout=15_000,
    )


def _login(page, base: str, user) -> None:
    page.goto(f"{base}/accounts/login/?next=/reports/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"^[^?]*/reports/$"))


def _click_mark(page, canvas_id: str, label: str) -> None:
    """Click the middle of the mark of ``label`` (a bar, or a map area at its centroid as chartjs-chart-geo
    projects it) in the chart drawn on ``canvas_id``.

    The canvas is brought into view and left to settle first: a responsive chart redraws itself a frame after
    its box changes (a scroll bar appearing, a note above it), and a point read before that misses its mark."""
    canvas = page.locator(f"#{canvas_id}")
    canvas.scroll_into_view_if_needed()
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    point = page.evaluate(
        """([id, label]) => {
            const chart = Chart.getChart(document.getElementById(id));
            const index = chart.data.labels.indexOf(label);
            return chart.getDatasetMeta(0).data[index].getCenterPoint(true);
        }""",
        [canvas_id, label],
    )
    canvas.click(position={"x": point["x"], "y": point["y"]})


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_analyst_drills_down_from_a_cell_a_bar_and_a_province(cast, live_server, browser_page, settings):
    settings.DISCLOSURE_K = K
    seed_report_data(cast)
    page = browser_page
    base = live_server.url
    _login(page, base, cast.analyst_a)

    # A table cell is a real link, reached with the keyboard.
    page.goto(f"{base}/reports/disaggregations/sex/")
    _wait_for_charts(page)
    link = page.locator("[data-testid=table-dimension-sex] a.drill-link").first
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/disaggregations/sex/\?sex=F.*"))
    _wait_for_charts(page)
    _shot(page, "01-sex-filtered")
    assert (
        page.locator("details.report-filters summary .badge").inner_text() == "1"
    )  # the sex (what to count is not a filter)

    # A bar of the chart opens the same report filtered to its value.
    page.goto(f"{base}/reports/disaggregations/nationality/")
    _wait_for_charts(page)
    _click_mark(page, "chart-dimension-nationality", "Nicaragua")
    page.wait_for_url(re.compile(r".*nationality=NI.*"))
    _wait_for_charts(page)
    _shot(page, "02-nationality-filtered")
    table = page.locator("[data-testid=table-dimension-nationality] tbody").inner_text()
    assert "Nicaragua" in table and "Colombia" not in table

    # The overview's bar of a year opens that year.
    page.goto(f"{base}/reports/")
    _wait_for_charts(page)
    _click_mark(page, "chart-by-year", "2024")
    page.wait_for_url(re.compile(r".*year_from=2024&year_to=2024.*"))

    # The maps: Limón (one hidden person) is one area with its own figure, none of its cantons is drawn.
    page.goto(f"{base}/reports/maps/")
    _wait_for_charts(page)
    _shot(page, "03-maps")
    drawn = page.evaluate("() => document.getElementById('chart-map-canton').drawnAreas")
    limon = [a for a in drawn if a["rolledUp"]]
    assert [a["name"] for a in limon] == ["Limón (toda la provincia)"] and limon[0]["display"] == f"<{K}"
    assert not [a for a in drawn if not a["rolledUp"] and a["name"] in ("Limón", "Pococí", "Siquirres")]
    assert "Limón" in page.locator("[data-testid=note-map-canton]").inner_text()
    page.locator("#chart-map-canton").screenshot(path=str(ARTIFACTS / "drilldown-04-canton-map.png"))

    # From a province to its cantons: click San José on the province map.
    _click_mark(page, "chart-map-province", "San José")
    page.wait_for_url(re.compile(r".*zoom=1.*"))
    _wait_for_charts(page)
    zoomed = page.evaluate("() => document.getElementById('chart-map-canton').drawnAreas")
    assert zoomed and len(zoomed) == page.locator("[data-testid=table-map-canton] tbody tr").count()
    assert "San José" in page.locator("#title-map-canton").inner_text()
    page.locator("#report-map-canton").screenshot(path=str(ARTIFACTS / "drilldown-05-san-jose-cantons.png"))

    assert page.errors == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_filters_that_cannot_combine_are_greyed_out_before_they_are_chosen(cast, live_server, browser_page, settings):
    settings.DISCLOSURE_K = K
    seed_report_data(cast)
    page = browser_page
    base = live_server.url
    _login(page, base, cast.analyst_a)
    page.locator("details.report-filters summary").click()
    canton = page.locator("#id_residence_canton")
    assert canton.get_attribute("data-greyed") is None
    page.select_option("#id_residence_province", "1")
    # Greyed out at once, with the reason, before anything is sent.
    assert canton.get_attribute("data-greyed") == "true"
    assert page.locator("#id_residence_canton option[value='101']").is_disabled()
    reason = page.locator("#id_residence_canton_helptext")
    assert reason.inner_text() == "No se puede combinar con Provincia de residencia."
    assert canton.get_attribute("aria-describedby") == "id_residence_canton_helptext"
    _shot(page, "06-filters-greyed")
    # Two more filters: every other one is greyed with the limit of three.
    page.select_option("#id_sex", "F")
    page.select_option("#id_nationality", "NI")
    assert page.locator("#id_education_helptext").inner_text() == "Se pueden combinar como máximo tres filtros."
    # Back to "any province": the canton can be chosen again.
    # The canton of residence is one-way only: with no other filter left, it can be chosen again.
    for name in ("residence_province", "sex", "nationality"):
        page.select_option(f"#id_{name}", "")
    assert canton.get_attribute("data-greyed") is None
    assert not page.locator("#id_residence_canton option[value='101']").is_disabled()
    # The page rendered with a province already chosen greys the canton on the server, before any script.
    page.goto(f"{base}/reports/?residence_province=1")
    assert page.locator("#id_residence_canton").get_attribute("data-greyed") == "true"
    assert page.errors == []
