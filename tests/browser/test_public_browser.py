"""An anonymous visitor uses the public statistics page in a real browser (Playwright, Debian's chromium,
pytest-django's live server): the map is drawn, a CSV downloads, and axe-core (npm, node_modules/axe-core,
injected by the test, never served by the portal) finds no serious or critical accessibility violation on the
page or on the protection page. Screenshots go to test-artifacts/.

Skipped (not errors) where Playwright, chromium or axe-core is missing."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.browser_support import needs_browser, watched_page
from tests.report_data import K, seed_report_data

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = needs_browser


@pytest.fixture
def visitor(live_server, chromium_browser):
    if not AXE.exists():
        pytest.skip("needs axe-core from npm (npm ci)")
    ARTIFACTS.mkdir(exist_ok=True)
    options = {"viewport": {"width": 1280, "height": 1000}, "accept_downloads": True, "locale": "es-CR"}
    with watched_page(chromium_browser, **options) as page:
        yield page


def _axe(page) -> list[dict]:
    """axe-core's violations of impact serious or critical (WCAG 2.x A and AA rules and best practices)."""
    # Evaluated through the DevTools protocol, not added as a <script>: the page's CSP refuses inline scripts.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_anonymous_visitor_reads_the_public_statistics_and_axe_finds_no_serious_violation(
    cast, live_server, visitor, settings
):
    settings.DISCLOSURE_K = K
    seed_report_data(cast)
    page = visitor
    base = live_server.url
    k = settings.DISCLOSURE_K_PUBLIC

    # From the login page, the navigation leads to the public page.
    page.goto(f"{base}/accounts/login/")
    page.click("nav >> text=Estadísticas públicas")
    page.wait_for_url(f"{base}/estadisticas/")
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart-url]')].every(c => c.dataset.chartReady)",
        timeout=15_000,
    )
    assert page.locator("canvas[data-chart-ready=true]").count() == 1
    page.screenshot(path=str(ARTIFACTS / "public-01-statistics.png"), full_page=True)
    text = page.locator("main").inner_text()
    assert f"<{k}" in text
    assert page.errors == []
    violations = _axe(page)
    assert violations == [], violations

    # A table's CSV: its title, the protection, the source and the page's figures.
    with page.expect_download() as download_info:
        page.click("[data-testid=csv-public-sex]")
    target = ARTIFACTS / "public-sex.csv"
    download_info.value.save_as(str(target))
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert ["Fuente", "CONATT, portal de indicadores"] in rows
    cells = [c for row in rows[rows.index([]) + 1 :] for c in row[1:]]
    assert cells and not [c for c in cells if c.isdigit() and 1 <= int(c) < k]

    # The protection page, also without login.
    page.click("main >> text=Cómo se protegen las cifras")
    page.wait_for_url(f"{base}/estadisticas/proteccion/")
    page.screenshot(path=str(ARTIFACTS / "public-02-protection.png"), full_page=True)
    assert f"<{k}" in page.locator("main").inner_text()
    violations = _axe(page)
    assert violations == [], violations
