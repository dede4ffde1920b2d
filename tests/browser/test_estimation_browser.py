"""A coordinator computes an estimate of the unidentified victims in a real browser, against a real gunicorn in the
embedded mode (no broker: the run goes to a runner process, the page shows its progress and refreshes itself); an
analyst then sees the estimate but no capture-history cells. Screenshots in test-artifacts/.

With DEBUG off whitenoise serves only what collectstatic gathered, as in production, so the static files are
collected into the test's own STATIC_ROOT (without them the page never refreshes itself and has no chart).

Skipped (not errors) where Playwright or Debian's chromium is missing (tests/browser_support.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, needs_browser
from tests.cast import PASSWORD
from tests.process_support import Gunicorn, SharedDatabase

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = needs_browser


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/?next=/estimation/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    if page.locator("[data-testid=totp-secret]").count():  # a coordinator's second factor, set up as a person would
        import base64

        from django_otp.oath import TOTP

        secret = page.locator("[data-testid=totp-secret]").inner_text().strip()
        code = TOTP(base64.b32decode(secret + "=" * (-len(secret) % 8))).token()
        page.fill("main input:not([type=hidden])", f"{code:06d}")
        page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/estimation/.*"))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_coordinator_runs_an_estimate_and_analyst_sees_no_cells(cast, tmp_path, monkeypatch):
    call_command("seed_demo", applications=600, seed=3, verbosity=0)
    database = SharedDatabase(tmp_path).export()
    static_root = tmp_path / "static"
    with override_settings(STATIC_ROOT=static_root):
        call_command("collectstatic", interactive=False, verbosity=0)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    server = Gunicorn(database, env={"STATIC_ROOT": str(static_root)}, log=tmp_path / "gunicorn.log")
    with server, sync_playwright() as playwright:
        base = f"http://127.0.0.1:{server.port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="es-CR")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        failed: list[str] = []
        page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)

        _login(page, base, cast.coordinator_a.username)
        page.screenshot(path=str(ARTIFACTS / "estimation-00-page.png"), full_page=True)
        assert [url for url in failed if "/static/" in url] == []  # the self-refresh and the chart need them
        page.fill("input[name=replications]", "100", timeout=5_000)
        page.click("section[aria-labelledby=request-heading] button[type=submit]")
        page.wait_for_url(re.compile(r".*\?run=\d+"))
        page.wait_for_selector("[data-testid=run-progress]", timeout=10_000)  # the request answered at once
        page.screenshot(path=str(ARTIFACTS / "estimation-01-running.png"), full_page=True)
        page.wait_for_selector("[data-testid=estimate]", timeout=120_000)  # the page reloaded itself
        for testid in ("candidates-table", "capture-histories", "estimates-table"):
            assert page.locator(f"[data-testid={testid}]").count() == 1, testid
        assert page.locator("canvas#estimation-chart").count() == 1
        assert re.search(r"\d", page.locator("[data-testid=estimate]").inner_text())
        assert "intervalo" in page.locator("main").inner_text()
        page.screenshot(path=str(ARTIFACTS / "estimation-02-coordinator.png"), full_page=True)
        run_url = page.url

        context.clear_cookies()
        _login(page, base, cast.analyst_a.username)
        page.goto(run_url)
        assert page.locator("[data-testid=estimate]").count() == 1
        assert page.locator("[data-testid=capture-histories]").count() == 0
        page.screenshot(path=str(ARTIFACTS / "estimation-03-analyst.png"), full_page=True)
        assert errors == []
        context.close()
        browser.close()
