"""Every URL pattern of the project against every role, from the declared table in tests/security_url_table.py.

- A pattern that is not in the table fails (a new page must be declared, and so thought about).
- Each pattern is requested (GET) by each role of the cast; the answer must be the declared one. Object ids
  are filled with objects of institution A (the own institution of ``officer_own``).
- Every pattern that takes an object id is also tried by the other institution's officer with GET, POST, PUT,
  PATCH and DELETE: each answers 404 (or 405 where the method does not exist at all), never 2xx/3xx/403, and a
  checksum of every table is unchanged afterwards.
- Rendered HTML pages hold no inline script (the CSP would block it; see test_security_headers).

Set ``CONATT_URL_TABLE_PRINT=1`` to print what each role actually gets (for declaring a new pattern; the table
is reviewed by hand against DOMAIN.md's roles, never pasted blindly).
"""

from __future__ import annotations

import os
import re

import pytest
from django.contrib.admin.sites import site as admin_site
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import AccessEvent

from . import security_url_table as table
from .security_helpers import table_checksums
from .test_security_headers import inline_script_problems

pytestmark = pytest.mark.django_db


def all_patterns() -> list[tuple[str, str, list[str]]]:
    """(route as written, name used in the table, parameter names) for every pattern of the project."""
    found = []

    def walk(resolver, prefix="", namespace=""):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                ns = namespace
                if entry.namespace:
                    ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                walk(entry, prefix + str(entry.pattern), ns)
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or route)
                regex = entry.pattern.regex
                params = list(regex.groupindex) or re.findall(r"<(?:\w+:)?(\w+)>", route)
                if regex.groups > len(regex.groupindex):  # positional groups (simple_history's admin page)
                    params = ["object_id", "history_id"][: regex.groups]
                found.append((route, name, params))

    walk(get_resolver())
    return found


PATTERNS = all_patterns()


def test_the_project_has_the_patterns_we_expect_to_check():
    names = {name for _, name, _ in PATTERNS}
    assert {"home", "records:application_detail", "indicators:dashboard", "api-application-detail"} <= names
    assert any(name.startswith("admin:") for name in names)
    assert len(PATTERNS) > 100


@pytest.mark.parametrize(("route", "name", "params"), PATTERNS, ids=[p[1] for p in PATTERNS])
def test_every_pattern_is_declared(route, name, params):
    assert table.expected_for(name) is not None, (
        f"URL pattern {route!r} ({name}) is not in tests/security_url_table.py: declare who may reach it"
    )


def test_every_admin_model_is_declared():
    registered = {model._meta.label_lower for model in admin_site._registry}
    assert registered == set(table.ADMIN_MODELS), "declare each admin model in security_url_table.ADMIN_MODELS"


def test_the_table_has_no_stale_entries():
    names = {name for _, name, _ in PATTERNS}
    stale = set(table.TABLE) - names
    assert not stale, f"table entries for patterns that no longer exist: {sorted(stale)}"


@pytest.fixture
def world(cast, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return table.build_world(cast)


def _request(client, method: str, path: str, *, api: bool):
    extra = {"HTTP_ACCEPT": "application/json"} if api else {}
    return getattr(client, method)(path, **extra)


def _check_cell(response, expected, role: str, path: str) -> None:
    status = response.status_code
    if expected == table.LOGIN:
        assert status == 302, f"{role} {path}: expected a redirect to log in, got {status}"
        assert "/login/" in response["Location"], f"{role} {path}: redirected to {response['Location']}"
    elif expected == table.API_LOGIN:
        assert status in (401, 403), f"{role} {path}: anonymous API call answered {status}"
    elif isinstance(expected, tuple):
        assert status in expected, f"{role} {path}: expected one of {expected}, got {status}"
    else:
        assert status == expected, f"{role} {path}: expected {expected}, got {status}"


_OBSERVED: dict[str, dict[str, int]] = {}


@pytest.mark.parametrize(("route", "name", "params"), PATTERNS, ids=[p[1] for p in PATTERNS])
def test_url_role_matrix(world, cast, route, name, params):
    declared = table.expected_for(name)
    if declared is None and not os.environ.get("CONATT_URL_TABLE_PRINT"):
        pytest.fail(f"{name} is not declared")
    path = world.path_for(name, route, params)
    if path is None:
        pytest.fail(f"no way to build a path for {name} ({route}): add its parameters to build_world")
    observed = {}
    for role in table.ROLES:
        client = world.clients[role]
        response = _request(client, "get", path, api=route.startswith("api/v1/"))
        observed[role] = response.status_code
        if os.environ.get("CONATT_URL_TABLE_PRINT"):
            continue
        _check_cell(response, declared[role], role, path)
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            assert inline_script_problems(response.content.decode()) == [], f"{role} {path}: inline script"
            assert response["Cache-Control"] == "no-store" or role == "anonymous"
    if os.environ.get("CONATT_URL_TABLE_PRINT"):
        print(f"\nOBSERVED {name!r}: {observed}")  # noqa: T201


_OBJECT_NAMES = [p for p in PATTERNS if p[2] and not p[0].startswith("admin/")]


# Tables every request may write to: the session (renewed at each request), the audit (which records the
# refusals) and axes' access log. Everything else must be byte-for-byte unchanged.
_WRITTEN_BY_EVERY_REQUEST = {"django_session", "accounts_accessevent", "axes_accesslog"}


def _case_tables() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
    return sorted(set(names) - _WRITTEN_BY_EVERY_REQUEST)


def _missing_object_path(world, name, route, params) -> str:
    """The same URL with ids that exist nowhere."""
    saved = dict(world.ids)
    try:
        world.ids.update(
            dict.fromkeys(("application", "person", "decision", "import_job", "api_token", "saved_view"), 987654321)
        )
        return world.path_for(name, route, params)
    finally:
        world.ids.clear()
        world.ids.update(saved)


@pytest.mark.parametrize(("route", "name", "params"), _OBJECT_NAMES, ids=[p[1] for p in _OBJECT_NAMES])
def test_other_institutions_ids_answer_404_for_every_method_and_change_nothing(world, route, name, params):
    """404 for read, edit, delete and every action: visibility is decided before the role, so an officer asking
    for a coordinator's action on a case of another institution gets 404, like for an id that does not exist
    (the owning institution's officer, who sees the case, gets 403 for the action). 405 only where the method
    does not exist for anyone."""
    if name not in table.INSTITUTION_OBJECT_URLS:
        assert name in table.NOT_INSTITUTION_SCOPED, f"{name}: declare whether its object belongs to an institution"
        pytest.skip(f"{name}: {table.NOT_INSTITUTION_SCOPED[name]}")
    path = world.path_for(name, route, params)
    missing = _missing_object_path(world, name, route, params)
    api = route.startswith("api/v1/")
    tables = _case_tables()
    before = table_checksums(tables)
    audit_before = AccessEvent.objects.count()
    for role in ("officer_other", *table.INSTITUTION_OBJECT_URLS[name]):
        client = world.clients[role]
        for method in ("get", "post", "put", "patch", "delete"):
            status = _request(client, method, path, api=api).status_code
            where = f"{role} {method.upper()} {path}"
            assert status in (404, 405), f"{where}: {status}"
            if status == 405:
                # Only when the method does not exist for anyone: the owner gets 405 too.
                owner = _request(world.clients["officer_own"], method, path, api=api).status_code
                assert owner == 405, f"{where}: 405 for {role} but {owner} for the owner"
            assert _request(client, method, missing, api=api).status_code == status, f"{where}: differs when missing"
    assert table_checksums(tables) == before
    assert AccessEvent.objects.count() >= audit_before  # the audit only grows


@pytest.mark.parametrize(
    "name", ["api-application-start-review", "api-application-request-information", "api-decision-detail"]
)
def test_visibility_comes_before_the_role(world, name):
    """A coordinator's action asked by an officer: 403 for the officer who sees the case (the role lacks the
    right), 404 for the other institution's officer (the case is not theirs to know of), as for a missing id."""
    from django.urls import reverse

    pk = world.ids["decision" if name == "api-decision-detail" else "application"]
    method = "put" if name == "api-decision-detail" else "post"
    path = reverse(name, kwargs={"pk": pk})
    missing = reverse(name, kwargs={"pk": 987654321})
    own, other = world.clients["officer_own"], world.clients["officer_other"]
    assert getattr(own, method)(path, {}, content_type="application/json").status_code == 403
    assert getattr(other, method)(path, {}, content_type="application/json").status_code == 404
    assert getattr(own, method)(missing, {}, content_type="application/json").status_code == 404
