"""Hostile input into the portal's forms, an import file and the records API: script tags, SQL, NUL bytes,
right-to-left override and invisible characters, and a 1 MB string. Nothing answers 500, nothing executes in
the rendered page (it comes back escaped or not at all), and a refused submission writes nothing.

The fields of each form are read from the rendered page itself, so a field added later is attacked too."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from records.models import Application

from .records_factories import make_application
from .security_helpers import table_checksums

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"
HOSTILE = {
    "script": SCRIPT,
    "attribute": '"><img src=x onerror=alert(1)>',
    "sql": "'; DROP TABLE records_application; --",
    "nul": "abc\x00def",
    "rtl": "\u202egpj.exe\u202c",
    "invisible": "\ufeff\u200b\u200d\u2060",
    "megabyte": "x" * (1024 * 1024),
}
_UNESCAPED = [SCRIPT, "<img src=x onerror=alert(1)>"]
_CASE_TABLES_PREFIX = ("records_",)


def _case_tables() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        return sorted(t for t in connection.introspection.table_names(cursor) if t.startswith(_CASE_TABLES_PREFIX))


def _fields(html: str) -> list[str]:
    """Names of the inputs of the page's main POST form (the one with most fields; the navigation's logout form
    has none), CSRF token excluded."""
    best: list[str] = []
    for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", html, re.S | re.I):
        names = re.findall(r"<(?:input|textarea|select)\b[^>]*\bname=\"([^\"]+)\"", form, re.I)
        names = sorted({n for n in names if n != "csrfmiddlewaretoken"})
        if len(names) > len(best):
            best = names
    return best


def _assert_safe(response, label: str) -> None:
    assert response.status_code < 500, f"{label}: {response.status_code}"
    if "html" in response.get("Content-Type", ""):
        page = response.content.decode(errors="replace")
        for raw in _UNESCAPED:
            assert raw not in page, f"{label}: hostile markup rendered unescaped"


def _pages(cast):
    submitted = make_application(cast, state="SUBMITTED")
    return [
        ("officer_a", reverse("records:application_create")),
        ("officer_a", reverse("records:application_withdraw", args=[make_application(cast).pk])),
        ("coordinator_a", reverse("records:information_request", args=[submitted.pk])),
        ("coordinator_a", reverse("records:decision_record", args=[submitted.pk])),
        ("officer_a", reverse("accounts:password_change")),
        ("analyst_a", reverse("accounts:api_tokens")),
    ]


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_strings_in_every_field_of_every_form(cast, kind):
    value = HOSTILE[kind]
    for member, url in _pages(cast):
        client = cast.client_for(getattr(cast, member))
        page = client.get(url)
        assert page.status_code == 200, url
        fields = _fields(page.content.decode())
        assert fields, url
        tables = _case_tables()
        before = table_checksums(tables)
        applications = Application.objects.count()
        response = client.post(url, dict.fromkeys(fields, value), follow=True)
        _assert_safe(response, f"{kind} -> {url}")
        if not response.redirect_chain:  # refused: nothing may have been written
            assert table_checksums(tables) == before, f"{kind} -> {url}: refused but written"
        assert Application.objects.count() == applications  # a hostile form never makes an application


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_login_attempts_are_answered_safely(client, kind):
    response = client.post(reverse("accounts:login"), {"username": HOSTILE[kind], "password": HOSTILE[kind]})
    _assert_safe(response, f"login {kind}")
    assert response.status_code in (200, 400, 429)  # 400: a NUL byte is refused before any view


@pytest.mark.parametrize("kind", ["script", "attribute", "sql", "rtl", "invisible"])
def test_hostile_import_cells_write_nothing(cast, kind, settings, tmp_path):
    from records.imports import samples

    settings.MEDIA_ROOT = tmp_path / "media"
    rows = samples.sample_rows(2)
    for row in rows:
        for column in list(row):
            if isinstance(row[column], str):
                row[column] = HOSTILE[kind]
    client = cast.client_for(cast.officer_a)
    tables = [t for t in _case_tables() if t != "records_importjob"]
    before = table_checksums(tables)
    response = client.post(
        reverse("records:import_upload"),
        {"file": SimpleUploadedFile("hostil.csv", samples.to_csv(rows))},
        follow=True,
    )
    _assert_safe(response, f"import {kind}")
    assert table_checksums(tables) == before


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_api_fields_are_refused_or_stored_whole(cast, kind):
    client = cast.client_for(cast.officer_a)
    value = HOSTILE[kind]
    payload = {
        "case_reference": value,
        "received_on": value,
        "narrative": value,
        "identity": {"given_names": value, "family_names": value, "document_number": value},
        "sex": value,
        "nationalities": [value],
    }
    tables = _case_tables()
    before = table_checksums(tables)
    response = client.post("/api/v1/applications/", payload, content_type="application/json")
    assert response.status_code < 500
    assert response.status_code in (400, 413), response.status_code
    assert table_checksums(tables) == before
