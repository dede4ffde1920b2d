"""What the browser tests need: Playwright (python, from requirements-dev.txt) and Debian's chromium (never
Playwright's own browser download). Where either is missing the tests are skipped with the reason, not errors:
``needs_browser`` marks a module, and the ``chromium_browser`` fixture (tests/conftest.py) launches it."""

from __future__ import annotations

import contextlib
import importlib.util
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def missing() -> str:
    """Why the browser tests cannot run here, or "" when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "needs Playwright (pip install -r requirements-dev.txt)"
    if CHROMIUM is None:
        return "needs Debian's chromium (apt-get install chromium)"
    return ""


# One chromium at a time: the browser tests are one xdist group (tests/conftest.py), so two headless browsers and
# their live servers never share the two cores of a CI machine.
needs_browser = [
    pytest.mark.browser,
    pytest.mark.skipif(bool(missing()), reason=missing() or "available"),
    pytest.mark.xdist_group("browser"),
]


@contextlib.contextmanager
def watched_page(browser, **context_options):
    """A page in a fresh browser context (its own cookies) whose script errors and console errors (a CSP
    violation is one) are collected in ``page.errors``, for a test to assert there are none."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.errors = errors
    try:
        yield page
    finally:
        context.close()
