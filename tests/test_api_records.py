"""Writes through the records API: the institution comes from the user, the page's checks apply, the
workflow is records.services' (refusals answer 409 with the service's message), another institution's
application answers 404 and a role without the right 403."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from records.models import Application, Decision, Status

from . import records_factories as rf
from .api_support import fresh_throttles, token_client
from .cast import confirmed_membership

URL = "/api/v1/applications/"


def payload(**overrides) -> dict:
    data = {
        "case_reference": "API-0001",
        "received_on": "2025-03-03",
        "identity": {
            "given_names": "Zoraida",
            "family_names": "Quintanilla",
            "document_type": "national_id",
            "document_number": "1-1111-2222",
            "birth_date": "2000-05-17",
        },
        "exploitation_forms": ["SEXUAL"],
        "means": ["DECEPTION"],
        "recruitment_methods": ["SOCIAL_NETWORK"],
        "sex": "F",
        "nationalities": ["NI"],
        "exploitation_countries": ["CR"],
        "exploitation_districts": ["10101"],
        "residence_district": "10102",
        "narrative": "Relato confidencial",
    }
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def _fresh():
    fresh_throttles()


@pytest.fixture
def officer_a(cast):
    return token_client(cast.officer_a)[0]


def test_officer_registers_submits_and_reads_back(cast, officer_a):
    created = officer_a.post(URL, payload(), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["institution"] == "INAMU"
    assert body["status"] == Status.DRAFT
    assert body["age_at_application"] == 24
    assert body["exploitation_forms"] == ["SEXUAL"]
    assert body["nationalities"] == ["NI"]
    assert body["narrative"] == "Relato confidencial"
    submitted = officer_a.post(f"{URL}{body['id']}/submit/")
    assert submitted.status_code == 200
    assert submitted.json()["status"] == Status.SUBMITTED
    assert submitted.json()["due_on"]
    again = officer_a.get(f"{URL}{body['id']}/")
    assert again.json()["status"] == Status.SUBMITTED
    application = Application.all_objects.get(pk=body["id"])
    assert application.created_by == cast.officer_a
    assert application.person.identity.family_names == "Quintanilla"
    assert application.person.person_key  # pseudonymous key set by the service


def test_institution_in_the_payload_is_never_taken(cast, officer_a):
    response = officer_a.post(URL, payload(institution="PANI"), format="json")
    assert response.status_code == 400
    assert "institution" in response.json()
    assert not Application.all_objects.exists()


def test_officer_of_several_institutions_must_choose_one_of_theirs(cast):
    confirmed_membership(user=cast.officer_a, institution=cast.institution_b, role="officer")
    client, _ = token_client(cast.officer_a)
    refused = client.post(URL, payload(), format="json")
    assert refused.status_code == 400
    assert "INAMU" in refused.json()["institution"][0] and "PANI" in refused.json()["institution"][0]
    not_theirs = client.post(URL, payload(institution="OIJ"), format="json")
    assert not_theirs.status_code == 400
    chosen = client.post(URL, payload(institution="PANI"), format="json")
    assert chosen.status_code == 201
    assert chosen.json()["institution"] == "PANI"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"received_on": (timezone.localdate() + dt.timedelta(days=2)).isoformat()}, "received_on"),
        ({"exploitation_forms": ["NO_SUCH_CODE"]}, "exploitation_forms"),
        ({"sex": "WOMAN"}, "sex"),  # a code of another list
        ({"age_at_recruitment": 140}, "age_at_recruitment"),
        ({"nationalities": ["XX"]}, "nationalities"),
        ({"nationalities": ["\u00b2"]}, "nationalities"),  # a superscript digit: django-countries raised on it
        ({"recruitment_country": "\u00b2\u00b3"}, "recruitment_country"),
        ({"residence_district": "99999"}, "residence_district"),
        ({"exploitation_forms": []}, "exploitation_forms"),
    ],
)
def test_bad_input_is_refused_by_field_and_nothing_is_written(cast, officer_a, overrides, field):
    response = officer_a.post(URL, payload(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Application.all_objects.exists()


def test_identity_check_reported_under_identity(cast, officer_a):
    bad = payload()
    bad["identity"] = {"document_type": "passport", "document_number": ""}
    response = officer_a.post(URL, bad, format="json")
    assert response.status_code == 400
    assert "document_number" in response.json()["identity"]


def test_duplicate_case_reference_is_refused(cast, officer_a):
    assert officer_a.post(URL, payload(), format="json").status_code == 201
    again = officer_a.post(URL, payload(), format="json")
    assert again.status_code == 400
    assert "case_reference" in again.json()


def test_patch_with_version_and_stale_version(cast, officer_a):
    created = officer_a.post(URL, payload(), format="json").json()
    url = f"{URL}{created['id']}/"
    changed = officer_a.patch(url, {"version": created["version"], "sex": "M"}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["sex"] == "M"
    assert changed.json()["exploitation_forms"] == ["SEXUAL"]  # kept
    assert changed.json()["version"] == created["version"] + 1
    stale = officer_a.patch(url, {"version": created["version"], "sex": "F"}, format="json")
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version"
    assert Application.all_objects.get(pk=created["id"]).sex.code == "M"
    missing = officer_a.patch(url, {"sex": "F"}, format="json")
    assert missing.status_code == 400
    assert "version" in missing.json()


def test_put_replaces(cast, officer_a):
    created = officer_a.post(URL, payload(), format="json").json()
    replaced = officer_a.put(
        f"{URL}{created['id']}/", payload(version=created["version"], means=[], narrative=""), format="json"
    )
    assert replaced.status_code == 200
    assert replaced.json()["means"] == []


def test_patch_identity_only(cast, officer_a):
    created = officer_a.post(URL, payload(), format="json").json()
    response = officer_a.patch(
        f"{URL}{created['id']}/",
        {"version": created["version"], "identity": {"phone": "8888-1234"}},
        format="json",
    )
    assert response.status_code == 200
    identity = Application.all_objects.get(pk=created["id"]).person.identity
    assert identity.phone == "8888-1234"
    assert identity.family_names == "Quintanilla"


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("officer_b", 404),
        ("coordinator_a", 404),  # coordinators never see a draft: visibility comes before the role, as on the pages
        ("analyst_a", 403),
        ("admin_a", 403),
        ("nobody", 403),
        ("anonymous", 401),
    ],
)
def test_who_may_change_or_submit_another_institutions_draft(cast, who, expected):
    application = rf.make_application(cast)
    user = cast.users()[who]
    if user is None:
        from rest_framework.test import APIClient

        client = APIClient()
    else:
        client, _ = token_client(user)
    url = f"{URL}{application.pk}/"
    assert client.patch(url, {"version": 1, "sex": "M"}, format="json").status_code == expected
    assert client.post(f"{url}submit/").status_code == expected
    application.refresh_from_db()
    assert application.status == Status.DRAFT
    assert application.version == 1


@pytest.mark.parametrize("who", ["coordinator_a", "analyst_a", "admin_a", "nobody"])
def test_roles_other_than_officer_cannot_create(cast, who):
    client, _ = token_client(getattr(cast, who))
    assert client.post(URL, payload(), format="json").status_code == 403
    assert not Application.all_objects.exists()


def test_shared_application_is_readable_but_not_editable_by_the_other_institution(cast):
    from records import services

    application = rf.make_application(cast, owner=cast.officer_b, state="SUBMITTED")
    services.application_share(user=cast.admin_a, application=application, institution=cast.institution_a)
    client, _ = token_client(cast.officer_a)
    assert client.get(f"{URL}{application.pk}/").status_code == 200
    assert client.patch(f"{URL}{application.pk}/", {"version": 1}, format="json").status_code == 403
    assert client.post(f"{URL}{application.pk}/withdraw/", {"reason": "x"}, format="json").status_code == 403


def test_refused_transitions_answer_409_with_the_reason(cast, officer_a):
    application = rf.make_application(cast, state="ACCREDITED")
    url = f"{URL}{application.pk}/"
    submit = officer_a.post(f"{url}submit/")
    assert submit.status_code == 409
    assert submit.json()["code"] == "not_submittable"
    edit = officer_a.patch(url, {"version": application.version, "sex": "M"}, format="json")
    assert edit.status_code == 409
    assert edit.json()["code"] == "not_editable"
    incomplete = rf.make_application(cast, nationalities=[])
    refused = officer_a.post(f"{URL}{incomplete.pk}/submit/")
    assert refused.status_code == 409
    assert refused.json()["code"] == "incomplete"


def test_withdraw(cast, officer_a):
    application = rf.make_application(cast, state="SUBMITTED")
    response = officer_a.post(f"{URL}{application.pk}/withdraw/", {"reason": "duplicado"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == Status.WITHDRAWN
    assert officer_a.post(f"{URL}{application.pk}/withdraw/", {}, format="json").status_code in (400, 409)


# --- Coordinator steps and decisions -------------------------------------------------------------------------


def decision_payload(application, **overrides) -> dict:
    data = {
        "application": application.pk,
        "resolution_number": "ERI-API-1",
        "resolution_date": (application.received_on + dt.timedelta(days=2)).isoformat(),
        "votes_in_favour": 4,
        "votes_against": 1,
        "abstentions": 0,
        "outcome": "ACCREDITED",
        "reasons": "Cumple los elementos del tipo penal",
    }
    data.update(overrides)
    return data


def test_coordinator_reviews_asks_and_decides(cast):
    client, _ = token_client(cast.coordinator_a)
    application = rf.make_application(cast, state="SUBMITTED")
    url = f"{URL}{application.pk}/"
    assert client.post(f"{url}start-review/").json()["status"] == Status.UNDER_REVIEW
    asked = client.post(f"{url}request-information/", {"message": "¿Fecha exacta?"}, format="json")
    assert asked.json()["status"] == Status.INFO_REQUESTED
    # Deciding while waiting for the institution is refused by the workflow.
    waiting = client.post("/api/v1/decisions/", decision_payload(application), format="json")
    assert waiting.status_code == 409
    assert waiting.json()["code"] == "waiting"
    officer, _ = token_client(cast.officer_a)
    assert officer.post(f"{url}submit/").status_code == 200
    decided = client.post("/api/v1/decisions/", decision_payload(application), format="json")
    assert decided.status_code == 201, decided.json()
    assert decided.json()["recorded_by"] == cast.coordinator_a.username
    application.refresh_from_db()
    assert application.status == Status.ACCREDITED
    # The officer reads the decision back.
    read = officer.get(f"/api/v1/decisions/?application={application.pk}").json()["results"]
    assert [d["resolution_number"] for d in read] == ["ERI-API-1"]


def test_decision_checks_of_the_form_apply(cast):
    client, _ = token_client(cast.coordinator_a)
    application = rf.make_application(cast, state="SUBMITTED")
    no_majority = client.post(
        "/api/v1/decisions/", decision_payload(application, votes_in_favour=1, votes_against=4), format="json"
    )
    assert no_majority.status_code == 400
    assert "votes_in_favour" in no_majority.json()
    before = client.post(
        "/api/v1/decisions/",
        decision_payload(application, resolution_date=(application.received_on - dt.timedelta(days=1)).isoformat()),
        format="json",
    )
    assert before.status_code == 400
    assert "resolution_date" in before.json()
    assert not Decision.objects.exists()


def test_a_decision_is_changed_only_by_a_new_resolution(cast):
    client, _ = token_client(cast.coordinator_a)
    application = rf.make_application(cast, state="ACCREDITED")
    original = Decision.objects.get(application=application)
    plain = client.post("/api/v1/decisions/", decision_payload(application, resolution_number="X-2"), format="json")
    assert plain.status_code == 400
    assert "kind" in plain.json()
    appeal = client.post(
        "/api/v1/decisions/",
        decision_payload(
            application,
            kind="appeal",
            resolution_number="X-3",
            outcome="NOT_ACCREDITED",
            votes_in_favour=1,
            votes_against=4,
            resolution_date=original.resolution_date.isoformat(),
        ),
        format="json",
    )
    assert appeal.status_code == 201, appeal.json()
    assert appeal.json()["supersedes"] == original.pk
    application.refresh_from_db()
    assert application.status == Status.NOT_ACCREDITED
    assert Decision.objects.filter(application=application).count() == 2


@pytest.mark.parametrize(
    ("who", "expected"),
    [("officer_a", 403), ("analyst_a", 403), ("admin_a", 403), ("coordinator_b", 201)],
)
def test_who_may_record_a_decision(cast, who, expected):
    application = rf.make_application(cast, state="SUBMITTED")
    client, _ = token_client(getattr(cast, who))
    response = client.post("/api/v1/decisions/", decision_payload(application), format="json")
    assert response.status_code == expected


def test_decision_on_an_application_the_coordinator_cannot_see_is_404(cast):
    draft = rf.make_application(cast)  # drafts are the institution's own
    client, _ = token_client(cast.coordinator_a)
    response = client.post("/api/v1/decisions/", decision_payload(draft), format="json")
    assert response.status_code == 404
    assert client.post(f"{URL}{draft.pk}/start-review/").status_code == 404


@pytest.mark.parametrize("who", ["officer_a", "analyst_a"])
def test_coordinator_steps_refused_to_others(cast, who):
    application = rf.make_application(cast, state="SUBMITTED")
    client, _ = token_client(getattr(cast, who))
    assert client.post(f"{URL}{application.pk}/start-review/").status_code == 403
    response = client.post(f"{URL}{application.pk}/request-information/", {"message": "x"}, format="json")
    assert response.status_code == 403
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED


def test_session_writes_need_csrf(cast):
    client = cast.client_for(cast.officer_a, enforce_csrf_checks=True)
    response = client.post(URL, payload(), content_type="application/json")
    assert response.status_code == 403
    assert not Application.all_objects.exists()


def test_a_json_body_over_the_upload_limit_gets_the_api_json_error_in_spanish(cast, officer_a, settings):
    """Issue 20, point 7: a JSON body over DATA_UPLOAD_MAX_MEMORY_SIZE (10 MB) is refused by Django before any
    view; under /api/ the answer is the API's error shape ({"detail": ...}, JSON, in Spanish), not Django's HTML
    "Bad Request (400)", and nothing is written."""
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 10 * 1024 * 1024
    too_big = payload(narrative="x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
    existing = rf.make_application(cast)
    for method, url in (("post", URL), ("patch", f"{URL}{existing.pk}/"), ("post", "/api/v1/no-such-endpoint/")):
        response = getattr(officer_a, method)(url, {**too_big, "version": existing.version}, format="json")
        assert response.status_code == 400, url
        assert response["Content-Type"] == "application/json", url
        assert response.json() == {"detail": "El cuerpo de la solicitud supera el límite de 10 MB."}, url
    assert Application.all_objects.count() == 1
    existing.refresh_from_db()
    assert existing.narrative != too_big["narrative"]
    # A page keeps Django's own answer: only the API speaks JSON.
    page = cast.client_for(cast.officer_a).post(
        "/records/new/", data=b"{}" + b" " * settings.DATA_UPLOAD_MAX_MEMORY_SIZE, content_type="application/json"
    )
    assert page.status_code == 400 and "json" not in page["Content-Type"]
