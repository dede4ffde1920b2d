"""The API's URL x role x institution matrix, with the browser session and with a personal token.

Another institution's object answers 404; a role without the right 403; no credentials 401 (the API does
not redirect to the login page: a program cannot follow it)."""

from __future__ import annotations

import datetime

import pytest
from rest_framework.test import APIClient

from accounts.api.permissions import ApplicationPermission, CanReadRecords, DecisionPermission
from records.models import Decision, Status

from .api_support import fresh_throttles, make_application, token_client

ANY_ROLE = {"officer_a", "officer_b", "coordinator_a", "coordinator_b", "analyst_a", "analyst_b", "admin_a", "admin_b"}
RECORD_READERS = {"officer_a", "officer_b", "coordinator_a", "coordinator_b"}
COORDINATORS = {"coordinator_a", "coordinator_b"}


def expected_for(name: str, *, allowed: set[str], sees: set[str] | None = None) -> int:
    """401 anonymous; 403 without the role; 404 with the role but not the object; 200 otherwise."""
    if name == "anonymous":
        return 401
    if name not in allowed:
        return 403
    if sees is not None and name not in sees:
        return 404
    return 200


# (label, url template, roles allowed, who sees the object (None: a list or reference data))
CASES = [
    ("codes", "/api/v1/codes/", ANY_ROLE, None),
    ("code", "/api/v1/codes/{code}/", ANY_ROLE, None),
    ("code-lists", "/api/v1/code-lists/", ANY_ROLE, None),
    ("provinces", "/api/v1/provinces/", ANY_ROLE, None),
    ("province", "/api/v1/provinces/1/", ANY_ROLE, None),
    ("cantons", "/api/v1/cantons/?province=1", ANY_ROLE, None),
    ("districts", "/api/v1/districts/?canton=101", ANY_ROLE, None),
    ("languages", "/api/v1/languages/", ANY_ROLE, None),
    ("countries", "/api/v1/countries/", ANY_ROLE, None),
    ("schema", "/api/schema/", ANY_ROLE, None),
    ("applications", "/api/v1/applications/", RECORD_READERS, None),
    ("application a", "/api/v1/applications/{app_a}/", RECORD_READERS, {"officer_a"} | COORDINATORS),
    ("application b", "/api/v1/applications/{app_b}/", RECORD_READERS, {"officer_b"} | COORDINATORS),
    ("draft a", "/api/v1/applications/{draft_a}/", RECORD_READERS, {"officer_a"}),
    ("shared b", "/api/v1/applications/{shared_b}/", RECORD_READERS, {"officer_a", "officer_b"} | COORDINATORS),
    ("missing", "/api/v1/applications/999999/", RECORD_READERS, set()),
    ("people", "/api/v1/people/", RECORD_READERS, None),
    ("person a", "/api/v1/people/{person_a}/", RECORD_READERS, {"officer_a"} | COORDINATORS),
    ("person of draft a", "/api/v1/people/{draft_person_a}/", RECORD_READERS, {"officer_a"}),
    ("person b", "/api/v1/people/{person_b}/", RECORD_READERS, {"officer_b"} | COORDINATORS),
    ("decisions", "/api/v1/decisions/", RECORD_READERS, None),
    ("decision a", "/api/v1/decisions/{decision_a}/", RECORD_READERS, {"officer_a"} | COORDINATORS),
    ("decision b", "/api/v1/decisions/{decision_b}/", RECORD_READERS, {"officer_b"} | COORDINATORS),
]


@pytest.fixture
def world(cast):
    fresh_throttles()
    app_a = make_application(cast.institution_a, status=Status.ACCREDITED)
    app_b = make_application(cast.institution_b, status=Status.NOT_ACCREDITED)
    draft_a = make_application(cast.institution_a, status=Status.DRAFT)
    shared_b = make_application(cast.institution_b, status=Status.SUBMITTED)
    from guardian.shortcuts import assign_perm

    assign_perm("records.view_application", cast.officer_a, shared_b)

    def decide(application, number):
        return Decision.objects.create(
            application=application,
            resolution_number=number,
            resolution_date=datetime.date(2024, 3, 5),
            votes_in_favour=3,
            votes_against=0,
            outcome=application.status,
            reasons="Motivos",
            recorded_by=cast.coordinator_a,
        )

    from records.models import Code

    ids = {
        "app_a": app_a.pk,
        "app_b": app_b.pk,
        "draft_a": draft_a.pk,
        "shared_b": shared_b.pk,
        "person_a": app_a.person_id,
        "person_b": app_b.person_id,
        "draft_person_a": draft_a.person_id,
        "decision_a": decide(app_a, "ERI-1-2024").pk,
        "decision_b": decide(app_b, "ERI-2-2024").pk,
        "code": Code.objects.first().pk,
    }
    return ids


def _client(cast, name: str, mode: str) -> APIClient | object:
    user = cast.users()[name]
    if user is None:
        return APIClient()
    if mode == "session":
        return cast.client_for(user)
    client, _ = token_client(user)
    return client


@pytest.mark.parametrize("mode", ["session", "token"])
@pytest.mark.parametrize(("label", "template", "allowed", "sees"), CASES, ids=[c[0] for c in CASES])
def test_api_read_matrix(cast, world, mode, label, template, allowed, sees):
    url = template.format(**world)
    outcome = {}
    for name in [*sorted(ANY_ROLE), "nobody", "anonymous"]:
        if mode == "session" and name == "anonymous":
            continue
        outcome[name] = _client(cast, name, mode).get(url).status_code
    expected = {name: expected_for(name, allowed=allowed, sees=sees) for name in outcome}
    if mode == "session" and "anonymous" in expected:
        expected.pop("anonymous")
    assert outcome == expected


def test_session_without_credentials_is_401_not_a_redirect(cast, world):
    response = cast.client_for(None).get("/api/v1/applications/")
    assert response.status_code == 401


@pytest.mark.parametrize("who", ["officer_a", "coordinator_a"])
def test_lists_hold_only_visible_rows(cast, world, who):
    client, _ = token_client(getattr(cast, who))
    ids = {row["id"] for row in client.get("/api/v1/applications/?page_size=200").json()["results"]}
    if who == "officer_a":
        assert ids == {world["app_a"], world["draft_a"], world["shared_b"]}
    else:
        assert ids == {world["app_a"], world["app_b"], world["shared_b"]}
    decisions = {row["id"] for row in client.get("/api/v1/decisions/").json()["results"]}
    if who == "officer_a":
        assert decisions == {world["decision_a"]}
    else:
        assert decisions == {world["decision_a"], world["decision_b"]}
    people = {row["id"] for row in client.get("/api/v1/people/").json()["results"]}
    if who == "officer_a":
        assert world["person_b"] not in people and world["person_a"] in people
    else:
        assert world["draft_person_a"] not in people and {world["person_a"], world["person_b"]} <= people


def test_filters_do_not_widen_visibility(cast, world):
    client, _ = token_client(cast.officer_b)
    rows = client.get("/api/v1/applications/?institution=INAMU").json()["results"]
    assert rows == []
    rows = client.get(f"/api/v1/decisions/?application={world['app_a']}").json()["results"]
    assert rows == []


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/applications/99999999999999999999999/",
        "/api/v1/people/99999999999999999999999/",
        "/api/v1/decisions/99999999999999999999999/",
        "/api/v1/codes/99999999999999999999999/",
        "/api/v1/applications/-1/",
        "/api/v1/applications/0.5/",
        "/api/v1/people/abc/",
        "/api/v1/provinces/no.such/",
        "/api/v1/no-such-endpoint/",
        "/api/v1/applications/?page=99999999999999999999",
    ],
)
def test_malformed_ids_and_paths_answer_json_404(cast, url):
    fresh_throttles()
    client, _ = token_client(cast.officer_a)
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("query", ["person=99999999999999999999", "year=0.5", "year=abc", "application=-3"])
def test_malformed_filters_answer_400(cast, query):
    fresh_throttles()
    client, _ = token_client(cast.coordinator_a)
    url = "/api/v1/decisions/" if query.startswith("application") else "/api/v1/applications/"
    response = client.get(f"{url}?{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")


def test_year_outside_the_calendar_finds_nothing(cast, world):
    client, _ = token_client(cast.officer_a)
    assert client.get("/api/v1/applications/?year=0").json()["results"] == []
    assert client.get("/api/v1/applications/?year=2024").json()["count"] == 3


def test_refusals_say_which_right_is_missing(cast, world):
    analyst, _ = token_client(cast.analyst_a)
    read = analyst.get("/api/v1/applications/")
    assert read.status_code == 403
    assert str(read.json()["detail"]) == str(CanReadRecords.message)
    coordinator, _ = token_client(cast.coordinator_a)
    write = coordinator.post("/api/v1/applications/", {}, format="json")
    assert write.status_code == 403
    assert str(write.json()["detail"]) == str(ApplicationPermission.write_message)
    officer, _ = token_client(cast.officer_a)
    decide = officer.post("/api/v1/decisions/", {}, format="json")
    assert str(decide.json()["detail"]) == str(DecisionPermission.write_message)
