"""A chart downloaded as PNG says what it shows (issue 15, point 6), and the profiles page shows which filters
it applies (point 5), in a real browser (Playwright with Debian's chromium). The image and the screenshots are
kept in test-artifacts/ for people to look at.

Skipped (not errors) where Playwright or Debian's chromium is missing (tests/browser_support.py)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image

from tests.browser_support import needs_browser
from tests.cast import PASSWORD
from tests.report_data import K, seed_report_data

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = needs_browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_downloaded_chart_image_carries_its_title_filters_and_source(cast, live_server, chromium_browser, settings):
    settings.DISCLOSURE_K = K
    seed_report_data(cast)
    ARTIFACTS.mkdir(exist_ok=True)
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    base = live_server.url
    target = "/reports/disaggregations/sex/?year_from=2024&year_to=2024&nationality=NI"
    page.goto(f"{base}/accounts/login/?next={quote(target)}")
    page.fill("#id_username", cast.analyst_a.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/reports/disaggregations/sex/.*"))
    page.wait_for_function("() => document.getElementById('chart-dimension-sex').dataset.chartReady === 'true'")

    with page.expect_download() as png_info:
        page.click("[data-download-chart=chart-dimension-sex]")
    download = png_info.value
    assert download.suggested_filename == "conatt-dimension-sex.png"
    saved = ARTIFACTS / "reports-chart-dimension-sex.png"
    download.save_as(str(saved))

    canvas = page.evaluate("() => ['width', 'height'].map(n => document.getElementById('chart-dimension-sex')[n])")
    lines = page.evaluate("() => document.querySelector('[data-download-chart=chart-dimension-sex]').imageLines")
    image = Image.open(saved).convert("L")
    # The chart itself, with text above and below it.
    assert image.size[0] == canvas[0] and image.size[1] > canvas[1] + 60
    assert lines[0] == "Víctimas acreditadas (personas) por sexo"
    text = " ".join(lines)
    assert "Años: 2024" in text and "Filtros: Nacionalidad: Nicaragua" in text
    assert "Fuente: CONATT, portal de indicadores" in text and f'"<{K}"' in text
    # Dark pixels (the title) in the band above the chart, which the chart alone leaves white.
    assert min(image.crop((0, 0, image.size[0], 30)).getdata()) < 100

    # The profiles page with a filter it applies and one it does not.
    page.goto(f"{base}/reports/profiles/?sex=F&institution={cast.institution_a.code}")
    page.wait_for_selector("[data-testid=filters-not-applied]")
    assert page.locator("[data-testid=filters-active]").inner_text() == "1"
    assert page.locator("#id_institution").is_disabled()
    assert not page.locator("#id_sex").is_disabled()
    page.screenshot(path=str(ARTIFACTS / "reports-profiles-filters.png"), full_page=True)
    assert errors == []
    context.close()
