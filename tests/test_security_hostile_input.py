"""Hostile input into the portal's forms, an import file and the records API: script tags, SQL, NUL bytes,
right-to-left override and invisible characters, and a 1 MB string. Nothing answers 500, nothing executes in
the rendered page (it comes back escaped or not at all), and a refused submission writes nothing.

The fields of each form are read from the rendered page itself, so a field added later is attacked too."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

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
        applications = Application.all_objects.count()
        response = client.post(url, dict.fromkeys(fields, value), follow=True)
        _assert_safe(response, f"{kind} -> {url}")
        if not response.redirect_chain:  # refused: nothing may have been written
            assert table_checksums(tables) == before, f"{kind} -> {url}: refused but written"
        assert Application.all_objects.count() == applications  # a hostile form never makes an application


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


# ------------------------------------------------------------------------- forms read with the values they show


class _FormReader(HTMLParser):
    """Every POST form of a page with the values it shows: inputs (checkboxes and radios when checked), selected
    options and textareas. ``text`` lists the free-text fields (text, phone and search inputs, textareas; an email
    or a URL input has a format to pass, so it is attacked with the other fields)."""

    _TEXT_TYPES = {"text", "tel", "search", ""}

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._form = {"values": {}, "names": [], "text": []}
            self.forms.append(self._form)
        if self._form is None or (tag not in ("input", "select", "textarea", "option")):
            return
        name, kind = a.get("name", ""), a.get("type", "").lower()
        if tag == "option":
            if self._select and "selected" in a:
                self._form["values"].setdefault(self._select, []).append(a.get("value", ""))
            return
        if not name or name == "csrfmiddlewaretoken" or kind in ("submit", "button", "file"):
            return
        self._form["names"].append(name)
        if tag == "select":
            self._select = name
        elif tag == "textarea":
            self._textarea = name
            self._form["values"][name] = ""
            self._form["text"].append(name)
        elif kind in ("checkbox", "radio"):
            if "checked" in a:
                self._form["values"].setdefault(name, []).append(a.get("value", "on"))
        else:
            self._form["values"][name] = a.get("value", "")
            if kind in self._TEXT_TYPES:
                self._form["text"].append(name)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["values"][self._textarea] += data

    @property
    def main(self) -> dict:
        return max(self.forms, key=lambda f: len(set(f["names"])))


def _main_form(response) -> dict:
    form = _FormReader(response.content.decode()).main
    # A textarea's first newline is not part of its value (HTML), and Django renders one.
    form["values"] = {k: (v[1:] if isinstance(v, str) and v.startswith("\n") else v) for k, v in form["values"].items()}
    return form


@pytest.mark.parametrize("state", ["DRAFT", "INFO_REQUESTED"])
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_strings_in_the_edit_form_of_an_existing_application(cast, kind, state):
    """First every field hostile (the version too): refused, nothing written. Then only the free-text fields
    hostile, the others as the page shows them: refused with nothing written, or saved whole (the edit page
    shows back exactly what was sent) and every page of the case shows it escaped."""
    value = HOSTILE[kind]
    application = make_application(cast, state=state)
    url = reverse("records:application_edit", args=[application.pk])
    client = cast.client_for(cast.officer_a)
    page = client.get(url)
    assert page.status_code == 200
    form = _main_form(page)
    assert form["text"] and "version" in form["values"]
    tables = _case_tables()
    before = table_checksums(tables)

    response = client.post(url, dict.fromkeys(set(form["names"]), value), follow=True)
    _assert_safe(response, f"edit, every field {kind}")
    assert not response.redirect_chain and table_checksums(tables) == before

    data = {**form["values"], **dict.fromkeys(form["text"], value)}
    response = client.post(url, data, follow=True)
    _assert_safe(response, f"edit, text fields {kind}")
    if kind in ("script", "attribute", "sql", "rtl", "invisible"):
        # Text like any other for a free-text field: kept as typed and escaped where shown.
        assert response.redirect_chain, f"{kind}: refused in free text"
    if not response.redirect_chain:
        assert table_checksums(tables) == before, f"{kind}: refused but written"
        return
    shown = _main_form(client.get(url))["values"]
    changed = [name for name in form["text"] if shown[name] != value]
    assert not changed, f"{kind}: not stored whole: {changed}"
    for name in ("application_detail", "application_identity", "application_history"):
        _assert_safe(client.get(reverse(f"records:{name}", args=[application.pk])), f"{name} after {kind}")


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_strings_on_the_sharing_page(cast, kind):
    """Admins grant and revoke an institution's access to a case: a hostile institution id or action is refused
    (no 500) and no grant, revoke or anything else is written."""
    value = HOSTILE[kind]
    application = make_application(cast, state="SUBMITTED")
    url = reverse("records:application_sharing", args=[application.pk])
    client = cast.client_for(cast.admin_a)
    assert client.get(url).status_code == 200
    tables = _case_tables()
    before = table_checksums(tables)
    other = str(cast.institution_b.pk)
    for data in (
        {"action": "grant", "institution": value},
        {"action": "revoke", "institution": value},
        {"action": value, "institution": other},
        {"action": "grant", "institution": f"{other}{value}"},
    ):
        response = client.post(url, data, follow=True)
        _assert_safe(response, f"sharing {data['action'][:20]!r} {kind}")
    assert table_checksums(tables) == before


# ------------------------------------------------------------------------- every other API write endpoint

_FREE_TEXT = ("script", "attribute", "sql", "rtl", "invisible")  # text like any other where free text is allowed


def _api(client, method: str, path: str, payload, label: str, *, multipart: bool = False):
    if multipart:
        response = client.post(path, payload)
    else:
        response = getattr(client, method)(path, payload, content_type="application/json")
    assert response.status_code < 500, f"{label}: {response.status_code}"
    assert "html" not in response.get("Content-Type", ""), f"{label}: the API answered HTML"
    return response


def _written_or_not(label: str, response, tables, before, *, expect_write: bool) -> bool:
    """True if the request wrote. A refused one must have written nothing."""
    accepted = response.status_code < 300
    if expect_write:
        assert accepted, f"{label}: refused ({response.status_code}) {response.content[:300]!r}"
    if not accepted:
        assert table_checksums(tables) == before, f"{label}: refused but written"
    return accepted


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_strings_into_every_api_write_endpoint(cast, kind, settings, tmp_path):
    """Edit (PUT, PATCH), submit, withdraw, start review, request information, record a decision, upload,
    confirm and cancel an import: no 500, JSON answers only, a refused request writes nothing, an accepted free
    text is stored whole, and the case's pages show it escaped."""
    from records.imports import samples
    from records.imports.models import ImportJob
    from records.models import ApplicationEvent, Decision

    settings.MEDIA_ROOT = tmp_path / "media"
    value = HOSTILE[kind]
    free_text = kind in _FREE_TEXT
    officer, coordinator = cast.client_for(cast.officer_a), cast.client_for(cast.coordinator_a)
    tables = _case_tables()
    api = "/api/v1"
    shown_to = []  # (client, application) whose pages are checked at the end

    # Edit: every field hostile is refused; the free-text fields hostile with a valid version are stored whole.
    draft = make_application(cast)
    path = f"{api}/applications/{draft.pk}/"
    before = table_checksums(tables)
    every = {"version": value, "case_reference": value, "received_on": value, "narrative": value, "sex": value}
    every["identity"] = {"given_names": value, "document_type": value, "birth_date": value}
    response = _api(officer, "put", path, every, f"PUT {kind}")
    assert not _written_or_not(f"PUT {kind}", response, tables, before, expect_write=False)
    before = table_checksums(tables)
    texts = {"narrative": value, "case_reference": value}
    identity = {"given_names": value, "family_names": value, "address": value, "document_number": value}
    patch = {"version": draft.version, **texts, "identity": identity}
    response = _api(officer, "patch", path, patch, f"PATCH {kind}")
    if _written_or_not(f"PATCH {kind}", response, tables, before, expect_write=free_text):
        stored = officer.get(path).json()
        assert {k: stored[k] for k in texts} == texts
        person = officer.get(f"{api}/people/{draft.person_id}/").json()
        assert {k: person["identity"][k] for k in identity} == identity
        shown_to.append((officer, draft))

    # Submit and start review take no body: a hostile one is ignored or refused, never a 500.
    submitted = make_application(cast)
    _api(officer, "post", f"{api}/applications/{submitted.pk}/submit/", {"comment": value}, f"submit {kind}")
    _api(coordinator, "post", f"{api}/applications/{submitted.pk}/start-review/", {"x": value}, f"review {kind}")

    # Withdraw (reason) and request information (message): free text, stored whole.
    for client, state, action, field in (
        (officer, "SUBMITTED", "withdraw", "reason"),
        (coordinator, "UNDER_REVIEW", "request-information", "message"),
    ):
        application = make_application(cast, state=state)
        before = table_checksums(tables)
        label = f"{action} {kind}"
        response = _api(client, "post", f"{api}/applications/{application.pk}/{action}/", {field: value}, label)
        if _written_or_not(label, response, tables, before, expect_write=free_text):
            assert ApplicationEvent.objects.filter(application=application).latest("pk").comment == value
            shown_to.append((client, application))

    # A decision: every field hostile is refused; hostile reasons and resolution number are stored whole.
    reviewed = make_application(cast, state="UNDER_REVIEW")
    before = table_checksums(tables)
    every = dict.fromkeys(("kind", "resolution_date", "votes_in_favour", "votes_against", "outcome"), value)
    every.update(application=reviewed.pk, reasons=value, resolution_number=value)
    response = _api(coordinator, "post", f"{api}/decisions/", every, f"decision, every field {kind}")
    assert not _written_or_not(f"decision {kind}", response, tables, before, expect_write=False)
    decision = {
        "application": reviewed.pk,
        "kind": "original",
        "resolution_number": value,
        "resolution_date": "2026-11-02",
        "votes_in_favour": 3,
        "votes_against": 0,
        "outcome": "ACCREDITED",
        "reasons": value,
    }
    response = _api(coordinator, "post", f"{api}/decisions/", decision, f"decision {kind}")
    if _written_or_not(f"decision {kind}", response, tables, before, expect_write=free_text):
        recorded = Decision.objects.get(application=reviewed)
        assert (recorded.reasons, recorded.resolution_number) == (value, value)
        shown_to.append((coordinator, reviewed))

    # Imports: a hostile institution or file name; a hostile body to confirm and cancel.
    csv = samples.to_csv(samples.sample_rows(2))
    before = table_checksums([t for t in tables if t != "records_importjob"])
    for payload in (
        {"institution": value, "file": SimpleUploadedFile("casos.csv", csv)},
        {"file": SimpleUploadedFile(f"{value[:200]}.csv", csv)},
    ):
        _api(officer, "post", f"{api}/imports/", payload, f"import upload {kind}", multipart=True)
    _assert_safe(officer.get(reverse("records:import_upload")), f"import list {kind}")  # shows the file names
    for job in ImportJob.objects.filter(user=cast.officer_a):
        for step in ("confirm", "cancel"):
            _api(officer, "post", f"{api}/imports/{job.pk}/{step}/", {"x": value}, f"import {step} {kind}")
            _api(officer, "post", f"{api}/imports/{job.pk}/{step}/", {"x": value}, f"import {step} {kind}", multipart=1)
    written = table_checksums([t for t in tables if t != "records_importjob"]) != before
    assert written == ImportJob.objects.filter(status=ImportJob.Status.DONE).exists()  # only a confirmed import

    for client, application in shown_to:
        for name in ("application_detail", "application_history"):
            _assert_safe(client.get(reverse(f"records:{name}", args=[application.pk])), f"{name} {kind}")


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_query_parameters_of_every_api_read(cast, kind):
    """Every query parameter the OpenAPI schema declares for a GET without path parameters (filters, ordering,
    pages, the indicators' measures and dimensions), hostile: no 500 and JSON answers, for a coordinator (who
    reads the most) and an analyst (who reads aggregates)."""
    from urllib.parse import urlencode

    value = HOSTILE[kind] if kind != "megabyte" else "x" * 4000  # a URL is limited well below 1 MB by servers
    coordinator, analyst = cast.client_for(cast.coordinator_a), cast.client_for(cast.analyst_a)
    schema = coordinator.get("/api/schema/", {"format": "json"}, HTTP_ACCEPT="application/json").json()
    checked = 0
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path:
            continue
        names = [p["name"] for p in get.get("parameters", []) if p["in"] == "query"]
        if not names:
            continue
        for client in (coordinator, analyst):
            response = client.get(f"{path}?{urlencode(dict.fromkeys(names, value))}")
            assert response.status_code < 500, f"{path} {kind}: {response.status_code}"
            assert "html" not in response.get("Content-Type", ""), f"{path} {kind}: HTML"
        checked += 1
    assert checked >= 8  # the records lists, reference data and the indicators


# ------------------------------------------------------------------------- query strings of the HTML pages


class _QueryReader(HTMLParser):
    """What a page lets a visitor put in its address: the fields of its GET forms (each with what it shows: the
    selected options or checked boxes, or the typed value; and whether it is marked invalid), and the addresses
    of its links and chart-data URLs (to itself, to other report pages, to charts and exports)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, dict] = {}
        self.links: list[str] = []
        self._in_get_form = False
        self._select: dict | None = None
        self.feed(html)
        for field in self.fields.values():
            if field["kind"] == "select" and not field["shown"]:
                field["shown"] = field["options"][:1]  # a browser shows (and sends) the first option

    def _field(self, name: str, kind: str) -> dict:
        return self.fields.setdefault(name, {"kind": kind, "shown": [], "options": [], "invalid": False})

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        for attribute in ("href", "data-chart-url"):
            if a.get(attribute):
                self.links.append(a[attribute])
        if tag == "form":
            self._in_get_form = a.get("method", "get").lower() == "get"
            return
        if tag == "option" and self._select is not None:
            self._select["options"].append(a.get("value", ""))
            if "selected" in a:
                self._select["shown"].append(a.get("value", ""))
            return
        if not self._in_get_form or tag not in ("input", "select", "textarea") or not a.get("name"):
            return
        kind = tag if tag != "input" else (a.get("type") or "text").lower()
        if kind in ("submit", "button"):
            return
        if kind == "checkbox" and "value" not in a:
            kind = "boolean"  # any value means "on", as a browser sends it
        field = self._field(a["name"], kind)
        field["invalid"] |= a.get("aria-invalid") == "true"
        if tag == "select":
            self._select = field
        elif kind in ("checkbox", "radio", "boolean"):
            if "checked" in a:
                field["shown"].append(a.get("value", "on"))
        elif tag == "input":
            field["shown"].append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_get_form = False
        elif tag == "select":
            self._select = None

    def query_names(self, path: str) -> set[str]:
        """The fields of the page's GET forms and the parameters of its links to itself."""
        names = set(self.fields)
        for link in self.links:
            target = urlsplit(link)
            if target.path in ("", path):
                names |= {name for name, _ in parse_qsl(target.query, keep_blank_values=True)}
        return names


def _refused_or_ignored(baseline: _QueryReader, page: _QueryReader, name: str) -> bool:
    """A hostile value in a choice field is refused (the field is marked invalid, its error beside it) or
    ignored (the field shows what it shows without it). Free text (a case reference to search for) is shown as
    typed, escaped; hidden fields and link parameters have nothing to show."""
    field = page.fields.get(name)
    if field is None or field["kind"] in ("text", "search", "hidden", "boolean"):
        return True
    return field["invalid"] or field["shown"] == baseline.fields[name]["shown"]


def _hostile_queries(names: list[str], together: set[str], index: int) -> list[tuple[str, dict[str, str]]]:
    """The requests for one page: for each hostile kind, the fields one form validates ``together`` all hostile
    in one request (each field is cleaned on its own, and the form gives no filters at all whichever field
    failed), every other parameter hostile on its own, and a hostile parameter name; the 1 MB string once, into
    one field (a different one from page to page). (kind, parameters to replace in the base query)."""
    alone = [name for name in names if name not in together]
    queries = []
    for kind in sorted(set(HOSTILE) - {"megabyte"}):
        if together & set(names):
            queries.append((kind, dict.fromkeys(together & set(names), HOSTILE[kind])))
        queries += [(kind, {name: HOSTILE[kind]}) for name in alone]
        queries.append((kind, {HOSTILE[kind]: "1"}))  # a hostile name
    queries.append(("megabyte", {names[index % len(names)]: HOSTILE["megabyte"]}))
    return queries


def _get(client, path: str, base: str, hostile: dict[str, str]):
    """``path`` with its base query, the ``hostile`` parameters replacing what the base had for them."""
    query = [(k, v) for k, v in parse_qsl(base, keep_blank_values=True) if k not in hostile] + list(hostile.items())
    return client.get(f"{path}?{urlencode(query)}")


def _assert_well_formed(response, label: str) -> None:
    """Chart data is JSON (an unpublished combination: 400 with the reason as JSON); an export is a CSV or
    XLSX file that parses (or 400 with the reason as plain text); a NUL byte is refused before any view."""
    import csv
    import io
    import json

    from openpyxl import load_workbook

    status, content_type = response.status_code, response.get("Content-Type", "")
    assert status in (200, 400), f"{label}: {status}"
    assert "html" not in content_type or status == 400 and b"NUL" in response.content, f"{label}: HTML"
    if "json" in content_type:
        payload = json.loads(_body(response))
        assert isinstance(payload, dict) and (status == 200 or payload.get("error")), label
    elif status == 400:
        assert content_type.startswith("text/") and response.content, label
    elif content_type.startswith("text/csv"):
        assert list(csv.reader(io.StringIO(_body(response).decode("utf-8-sig")))), label
    else:
        assert load_workbook(io.BytesIO(_body(response)), read_only=True).sheetnames, label


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _other_get_pages(cast) -> list[tuple[str | None, str, str, tuple[str, ...]]]:
    """The other pages that read their address: (who may see it, path, base query, parameters the view reads
    that no form or link of the page shows). The place lists are read by records-geo.js; a list's page number
    appears only past 50 rows; the export is attacked as its page and as a download."""
    from indicators import services as indicator_services

    for state in ("DRAFT", "SUBMITTED", "UNDER_REVIEW"):
        make_application(cast, state=state)
    indicator_services.recompute_full(trigger="test")  # a run in the admin's history, with its date links
    export = reverse("records:export_applications")
    return [
        ("officer_a", reverse("records:application_list"), "", ("page",)),
        ("coordinator_a", reverse("records:application_list"), "", ("page",)),
        ("coordinator_a", reverse("records:queue"), "", ("page",)),
        ("officer_a", export, "", ()),
        ("coordinator_a", export, "format=csv", ()),
        ("officer_a", reverse("records:import_upload"), "", ()),
        ("officer_a", reverse("records:cantons_for_province"), "", ("province", "format")),
        ("officer_a", reverse("records:districts_for_canton"), "format=html", ("canton", "province", "format")),
        ("admin_a", reverse("admin:indicators_recomputerun_changelist"), "", ("p", "q")),
        ("admin_a", reverse("admin:indicators_pendingrecompute_changelist"), "", ("p", "q")),
        (None, reverse("accounts:login"), "", ("next",)),
    ]


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_query_strings_into_the_record_import_admin_and_login_pages(cast, kind):
    """The record list (officers and coordinators), the ERI queue, the export page and its download, the
    import page, the place lists behind the application form, the indicator run history and outbox in the
    admin, and the login page's ``next``: every field of their GET forms, every parameter of their links to
    themselves and the parameters their views read, each hostile on its own (the 1 MB string once per page),
    and a hostile parameter name. No 500; HTML comes back escaped,
    a hostile choice refused or ignored; a file parses; the admin may send an unknown lookup back to its list
    (302) or refuse it (400); a NUL byte is refused with 400 before any view."""
    value = HOSTILE[kind]
    for index, (member, path, base, read) in enumerate(_other_get_pages(cast)):
        client = cast.client_for(getattr(cast, member) if member else None)
        assert client.get(f"{path}?{base}").status_code == 200, path
        baseline = _QueryReader(_body(client.get(path)).decode())
        names = sorted(baseline.query_names(path) | set(read)) or [HOSTILE["attribute"]]
        admin = path.startswith(reverse("admin:index"))
        queries = [{name: value} for name in names] + [{value: "1"}]  # a hostile name
        if kind == "megabyte":  # once per page, into a different field from page to page
            queries = [{names[index % len(names)]: value}]
        for hostile in queries:
            label = f"{member} {path}?{next(iter(hostile))[:20]}={kind}"
            response = _get(client, path, base, hostile)
            if kind == "nul":
                assert response.status_code == 400, label
                continue
            assert response.status_code in ((200, 302, 400) if admin else (200,)), f"{label}: {response.status_code}"
            if "html" in response.get("Content-Type", ""):
                _assert_safe(response, label)
                page = _QueryReader(_body(response).decode())
                assert all(_refused_or_ignored(baseline, page, n) for n in hostile), f"{label}: not refused nor ignored"
            else:
                _assert_well_formed(response, label)


@pytest.mark.parametrize("url_name, param", [("records:queue", "status"), ("records:application_list", "status")])
def test_sort_links_carry_the_filters_url_encoded(cast, url_name, param):
    """A filter value holding "&" or "=" must not add parameters to the page's sort links."""
    user = cast.coordinator_a if url_name == "records:queue" else cast.officer_a
    response = cast.client_for(user).get(reverse(url_name), {param: "OPEN&sort=x"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{param}=OPEN%26sort%3Dx" in html
    assert f"{param}=OPEN&amp;sort=x" not in html


def test_a_refused_choice_is_not_quoted_back(cast):
    """Django's default message repeats the refused value; the portal's forms say it without the value (a value
    in an address can be a megabyte long, or reorder the sentence with a right-to-left override)."""
    value = "ZZ-\u202enot-a-code-" + "x" * 5000
    response = cast.client_for(cast.analyst_a).get(reverse("indicators:dashboard"), {"institution": value})
    assert response.status_code == 400  # refused: no figure for an invalid filter (tests/test_reports_filters.py)
    html = response.content.decode()
    error = re.search(r'id="id_institution_error"[^>]*>(.*?)</', html, re.S)
    assert error is not None
    assert "Esa opción no está entre las disponibles" in error.group(1)
    assert "not-a-code" not in error.group(1)
    # The address itself comes back only where the page names its own address (the language switch), escaped.
    assert html.count("not-a-code") == html.count('name="next" value="/reports/?institution=ZZ-')
