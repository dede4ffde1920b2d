"""Response headers (CSP without inline scripts, no-store for logged-in pages, frame denial, referrer policy)
and a scan of every template of the project for inline scripts, inline event handlers and inline styles, which
the CSP would block in the browser (the first two would be the way in for injected script; a blocked ``style=``
silently drops the layout it carried)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
_SKIP_DIRS = {".venv", "node_modules", "staticfiles", ".git", "static"}


def _directives(header: str) -> dict[str, list[str]]:
    result = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            result[words[0]] = words[1:]
    return result


def _assert_csp(response):
    header = response["Content-Security-Policy"]
    policy = _directives(header)
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert "'unsafe-inline'" not in header
    assert "'unsafe-eval'" not in header


def _assert_frame_and_referrer(response):
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_login_page_headers_for_anonymous(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    _assert_csp(response)
    _assert_frame_and_referrer(response)


@pytest.mark.django_db
@pytest.mark.parametrize("member", ["officer_a", "coordinator_a", "analyst_a", "admin_a", "nobody"])
def test_logged_in_pages_are_not_stored_and_carry_the_policy(cast, member):
    client = cast.client_for(getattr(cast, member))
    for path in ("/", "/accounts/password/"):
        response = client.get(path)
        assert response.status_code in (200, 403)
        assert response["Cache-Control"] == "no-store"
        _assert_csp(response)
        _assert_frame_and_referrer(response)


@pytest.mark.django_db
def test_admin_pages_are_not_stored(cast):
    response = cast.client_for(cast.admin_a).get("/admin/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    _assert_csp(response)


# --- templates -----------------------------------------------------------------------------------------------


def project_templates() -> list[Path]:
    """Every template the project ships: templates/ and each app's templates/ (installed packages excluded)."""
    found = []
    for path in BASE_DIR.rglob("*.html"):
        parts = set(path.relative_to(BASE_DIR).parts)
        if parts & _SKIP_DIRS or "templates" not in parts:
            continue
        found.append(path)
    return sorted(found)


_SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
_EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
_JS_URL = re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
_ALLOWED_SCRIPT_TYPES = {"application/json", "application/ld+json"}


def inline_script_problems(text: str) -> list[str]:
    problems = []
    for match in _SCRIPT_TAG.finditer(text):
        attributes = match.group(1)
        if re.search(r"\bsrc\s*=", attributes, re.IGNORECASE):
            continue
        kind = re.search(r"""\btype\s*=\s*["']?([^"'\s>]+)""", attributes, re.IGNORECASE)
        if kind and kind.group(1).lower() in _ALLOWED_SCRIPT_TYPES:
            continue
        problems.append(f"inline <script{attributes}>")
    problems += [f"event handler: {m.group(0)[-40:]!r}" for m in _EVENT_HANDLER.finditer(text)]
    problems += [f"javascript: URL: {m.group(0)!r}" for m in _JS_URL.finditer(text)]
    return problems


# style-src 'self' (no 'unsafe-inline'): the browser ignores a style="..." attribute and a <style> element.
_STYLE_ATTRIBUTE = re.compile(r"<[a-zA-Z][^>]*?\sstyle\s*=", re.IGNORECASE | re.DOTALL)
_STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)


def inline_style_problems(text: str) -> list[str]:
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.DOTALL)  # a template comment may name what it avoids
    problems = [f"style attribute: {m.group(0)[-40:]!r}" for m in _STYLE_ATTRIBUTE.finditer(text)]
    return problems + [f"<style> element at {m.start()}" for m in _STYLE_ELEMENT.finditer(text)]


def test_the_scanner_finds_what_it_should():
    assert inline_script_problems("<script>alert(1)</script>")
    assert inline_script_problems('<SCRIPT type="text/javascript">x()</SCRIPT>')
    assert inline_script_problems('<button class="b" onclick="go()">')
    assert inline_script_problems('<body\n  onload="go()">')
    assert inline_script_problems('<a href="javascript:go()">')
    assert not inline_script_problems('<script src="{% static "js/app.js" %}" defer></script>')
    assert not inline_script_problems('<script id="d" type="application/json">{"a": 1}</script>')
    assert not inline_script_problems('<p data-onclick="x">one="1"</p>')
    assert inline_style_problems('<div class="card" style="max-width: 40rem">')
    assert inline_style_problems('<p\n  style="color: red">')
    assert inline_style_problems("<STYLE>p { color: red }</STYLE>")
    assert not inline_style_problems('<div class="card" data-style="x">style="1"</div>')
    assert not inline_style_problems('<link rel="stylesheet" href="/static/css/portal.css">')
    assert not inline_style_problems("{# the stock page carries an inline <style> #}")


def test_templates_exist_to_scan():
    names = {p.name for p in project_templates()}
    assert "base.html" in names
    assert "login.html" in names


@pytest.mark.parametrize("template", project_templates(), ids=lambda p: str(p.relative_to(BASE_DIR)))
def test_no_template_has_inline_script_or_event_handlers(template):
    assert inline_script_problems(template.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("template", project_templates(), ids=lambda p: str(p.relative_to(BASE_DIR)))
def test_no_template_has_inline_styles(template):
    assert inline_style_problems(template.read_text(encoding="utf-8")) == []
