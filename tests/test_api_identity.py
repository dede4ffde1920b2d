"""Identity data through the API: only in detail answers, only for those entitled (accounts.access), every
such answer logged with ids only; never in lists; analysts and admins never reach it."""

from __future__ import annotations

import pytest

from accounts import access
from accounts.models import AccessEvent
from records.models import Status

from .api_support import fresh_throttles, make_application, token_client

IDENTITY_VALUES = ("Ana", "Secreta", "1-2345-6789", "Relato confidencial")


@pytest.fixture
def app_a(cast):
    fresh_throttles()
    return make_application(cast.institution_a, status=Status.SUBMITTED)


@pytest.mark.parametrize("who", ["officer_a", "coordinator_a"])
def test_entitled_reader_gets_identity_and_the_view_is_logged(cast, app_a, who):
    user = getattr(cast, who)
    client, _ = token_client(user)
    person = client.get(f"/api/v1/people/{app_a.person_id}/").json()
    assert person["identity"]["family_names"] == "Secreta"
    assert person["identity"]["document_number"] == "1-2345-6789"
    application = client.get(f"/api/v1/applications/{app_a.pk}/").json()
    assert application["narrative"] == "Relato confidencial"
    events = AccessEvent.objects.filter(user=user, action=AccessEvent.Action.IDENTITY_VIEW)
    assert {(e.object_type, e.object_id) for e in events} == {
        ("records.person", str(app_a.person_id)),
        ("records.application", str(app_a.pk)),
    }
    for event in events:
        assert not any(value in f"{event.detail}{event.object_id}" for value in IDENTITY_VALUES)


def test_identity_omitted_for_a_reader_access_does_not_entitle(cast, app_a, monkeypatch):
    """If accounts.access says no (whatever the reason), the fields are absent, not empty, and nothing is
    logged as an identity view."""
    monkeypatch.setattr(access, "can_see_identity", lambda user, application: False)
    client, _ = token_client(cast.officer_a)
    person = client.get(f"/api/v1/people/{app_a.person_id}/")
    assert person.status_code == 200
    assert "identity" not in person.json()
    application = client.get(f"/api/v1/applications/{app_a.pk}/")
    assert application.status_code == 200
    assert "narrative" not in application.json()
    body = person.content.decode() + application.content.decode()
    assert not any(value in body for value in IDENTITY_VALUES)
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.IDENTITY_VIEW).exists()


@pytest.mark.parametrize("url", ["/api/v1/applications/", "/api/v1/people/", "/api/v1/decisions/"])
@pytest.mark.parametrize("who", ["officer_a", "coordinator_a"])
def test_lists_never_carry_identity(cast, app_a, url, who):
    client, _ = token_client(getattr(cast, who))
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert not any(value in body for value in IDENTITY_VALUES)


@pytest.mark.parametrize("who", ["analyst_a", "analyst_b", "admin_a", "admin_b", "nobody"])
def test_roles_without_records_get_403_and_no_identity(cast, app_a, who):
    client, _ = token_client(getattr(cast, who))
    for url in (f"/api/v1/people/{app_a.person_id}/", f"/api/v1/applications/{app_a.pk}/"):
        response = client.get(url)
        assert response.status_code == 403
        assert not any(value in response.content.decode() for value in IDENTITY_VALUES)


def test_other_institution_gets_404_without_revealing_anything(cast, app_a):
    client, _ = token_client(cast.officer_b)
    for url in (f"/api/v1/people/{app_a.person_id}/", f"/api/v1/applications/{app_a.pk}/"):
        response = client.get(url)
        assert response.status_code == 404
        assert not any(value in response.content.decode() for value in IDENTITY_VALUES)
