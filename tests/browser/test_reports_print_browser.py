"""Report pages printed from the browser (issue 15, point 11): the print stylesheet (static/css/portal.css,
``@media print``) leaves the figures and drops what only works on a screen; and the overview's annual report
link downloads the PDF. The printed pages are kept in test-artifacts/ for people to look at.

Skipped (not errors) where Playwright or Debian's chromium is missing (tests/browser_support.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser_support import needs_browser
from tests.cast import PASSWORD
from tests.report_data import K, seed_report_data

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = needs_browser

PAGES = (
    "/reports/",
    "/reports/disaggregations/sex/",
    "/reports/relations/",
    "/reports/maps/",
    "/reports/international/",
)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_report_pages_print_their_figures_without_the_screen_controls(cast, live_server, chromium_browser, settings):
    settings.DISCLOSURE_K = K
    seed_report_data(cast)
    ARTIFACTS.mkdir(exist_ok=True)
    context = chromium_browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page = context.new_page()
    base = live_server.url
    page.goto(f"{base}/accounts/login/?next=/reports/")
    page.fill("#id_username", cast.analyst_a.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"^[^?]*/reports/$"))

    # The annual report of a year, from the overview's year links.
    with page.expect_download() as download:
        page.click("[data-testid=annual-pdf-2024]")
    saved = ARTIFACTS / "reports-annual-2024.pdf"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "conatt-informe-anual-2024.pdf"
    assert saved.read_bytes().startswith(b"%PDF")

    page.emulate_media(media="print")
    for path in PAGES:
        page.goto(f"{base}{path}")
        page.wait_for_function(
            "() => [...document.querySelectorAll('canvas[data-chart-url]')].every(c => c.dataset.chartReady)",
            timeout=15_000,
        )
        for hidden in ("nav.navbar", "details.report-filters", ".nav-tabs", "main .btn"):
            locator = page.locator(hidden)
            assert all(not locator.nth(i).is_visible() for i in range(locator.count())), (path, hidden)
        assert page.locator("table.report-table").first.is_visible(), path
        name = path.strip("/").replace("/", "-")
        page.screenshot(path=str(ARTIFACTS / f"print-{name}.png"), full_page=True)
        page.pdf(path=str(ARTIFACTS / f"print-{name}.pdf"), format="A4", print_background=True)
    context.close()
