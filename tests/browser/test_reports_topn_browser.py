"""An analyst sorts a long disaggregation by value and keeps its five largest rows, in a real browser (issue 15,
point 10): the controls change the address, the table and the chart show the same rows with "Otros", and the
CSV link carries the ranking. Screenshot in test-artifacts/reports-topn.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser_support import needs_browser, watched_page
from tests.cast import PASSWORD
from tests.report_data import K, seed_more_nationalities, seed_report_data

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = needs_browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_analyst_keeps_the_five_largest_nationalities_and_sees_otros(cast, live_server, chromium_browser, settings):
    settings.DISCLOSURE_K = K
    seed_report_data(cast)
    seed_more_nationalities(cast)
    ARTIFACTS.mkdir(exist_ok=True)
    with watched_page(chromium_browser, viewport={"width": 1400, "height": 1000}, locale="es-CR") as page:
        page.goto(f"{live_server.url}/accounts/login/?next=/reports/disaggregations/nationality/")
        page.fill("#id_username", cast.analyst_a.username)
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r".*/disaggregations/nationality/$"))

        page.select_option("#id_top", "5")
        page.locator("#id_top").locator("xpath=ancestor::form").locator("button[type=submit]").click()
        page.wait_for_url(re.compile(r".*top=5.*"))
        page.wait_for_function(
            "() => [...document.querySelectorAll('canvas[data-chart-url]')].every(c => c.dataset.chartReady)",
            timeout=15_000,
        )
        page.screenshot(path=str(ARTIFACTS / "reports-topn.png"), full_page=True)

        rows = page.locator("main table tbody tr")
        assert rows.count() == 6
        assert re.match(r"Otros \(\d+ categorías\)", rows.nth(5).locator("th, td").first.inner_text().strip())
        assert page.locator("#id_top").input_value() == "5"
        assert page.locator("#id_order").input_value() == "value", "five rows are the largest: by value"
        csv_link = page.locator("[data-testid=csv-dimension-nationality]").get_attribute("href") or ""
        assert "top=5" in csv_link
        assert page.errors == []
