"""An analyst saves a filtered report, finds it in "Mis vistas guardadas", copies its link, opens it and deletes
it, in headless chromium against the live server. Screenshots are kept in test-artifacts/ for people to look at.

Skipped (not errors) where Playwright or Debian's chromium is missing (tests/browser_support.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from indicators.models import SavedView
from tests.browser_support import needs_browser, watched_page
from tests.cast import PASSWORD
from tests.report_data import K, seed_report_data

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = needs_browser


@pytest.fixture
def browser_page(live_server, chromium_browser):
    ARTIFACTS.mkdir(exist_ok=True)
    # A CSP violation (an inline script or style) is reported on the console as an error: page.errors has it.
    with watched_page(chromium_browser, viewport={"width": 1400, "height": 1000}, locale="es-CR") as page:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
        yield page


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"saved-views-{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_analyst_saves_finds_copies_opens_and_deletes_a_view(cast, live_server, browser_page, settings):
    settings.DISCLOSURE_K = K
    seed_report_data(cast)
    page = browser_page
    base = live_server.url
    report = "/reports/disaggregations/nationality/?measure=received&year_from=2024&year_to=2024"

    page.goto(f"{base}/accounts/login/?next={report.replace('&', '%26').replace('?', '%3F')}")
    page.fill("#id_username", cast.analyst_a.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/reports/disaggregations/nationality/.*"))
    form = page.locator("[data-testid=save-view-form]")
    assert form.is_visible()
    _shot(page, "01-report-with-save-form")

    # An empty name is refused by the browser before it is sent; a name saves the view and stays on the report.
    page.fill("#save-view-name", "Recibidas 2024 por nacionalidad")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url == base + report
    assert "se guardó" in page.locator("main .alert-success").inner_text()
    _shot(page, "02-saved")

    page.click("[data-testid=saved-views-link]")
    page.wait_for_url(f"{base}/reports/saved/")
    row = page.locator("[data-testid=saved-view]")
    assert row.count() == 1
    assert "Desagregaciones: Nacionalidad" in row.inner_text()
    row.get_by_role("button", name="Copiar enlace").click()
    page.wait_for_function("() => document.querySelector('button[data-copy-link]').textContent === 'Copiado'")
    assert page.evaluate("navigator.clipboard.readText()") == base + report
    _shot(page, "03-list")

    row.get_by_role("link", name=re.compile("^Abrir")).click()
    page.wait_for_url(base + report)

    page.goto(f"{base}/reports/saved/")
    page.locator("[data-testid=saved-view]").get_by_role("link", name=re.compile("^Eliminar")).click()
    page.wait_for_url(re.compile(r".*/reports/saved/\d+/delete/"))
    _shot(page, "04-confirm-delete")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/reports/saved/")
    assert page.locator("[data-testid=no-saved-views]").is_visible()
    assert not SavedView.objects.exists()

    # On a phone the form wraps above the title, its box no wider than the screen.
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(base + report)
    box = page.locator("#save-view-name").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=str(ARTIFACTS / "saved-views-05-phone.png"))
    assert page.errors == []
