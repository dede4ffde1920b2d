"""Personal API tokens: shown once, stored hashed, expiring, revocable; the token page; the authentication
class (401 for an unknown, expired or revoked token); throttling per user and per token."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from accounts.models import AccessEvent, ApiToken
from accounts.tokens import api_token_authenticate, api_token_create, api_token_revoke

from .api_support import fresh_throttles, token_client

CODES_URL = "/api/v1/codes/"


@pytest.fixture(autouse=True)
def _clean_throttles():
    fresh_throttles()
    yield
    fresh_throttles()


# --- The token page ------------------------------------------------------------------------------------------


def test_token_page_shows_the_key_once_and_stores_only_its_hash(cast):
    client = cast.client_for(cast.officer_a)
    url = reverse("accounts:api_tokens")
    response = client.post(url, {"name": "case system", "days": "90"})
    assert response.status_code == 200
    key = response.context["new_key"]
    assert key.startswith("conatt_")
    assert key in response.content.decode()
    token = ApiToken.objects.get(user=cast.officer_a)
    assert token.name == "case system"
    assert token.secret_hash == hashlib.sha256(key.encode()).hexdigest()
    # Nothing stored holds the key itself.
    for field in ("name", "prefix", "secret_hash"):
        assert key not in getattr(token, field)
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
    # The next visit lists the token but never shows the key again.
    again = client.get(url)
    assert again.status_code == 200
    assert key not in again.content.decode()
    assert token.prefix in again.content.decode()


def test_token_page_refuses_a_validity_beyond_the_maximum(cast):
    client = cast.client_for(cast.officer_a)
    response = client.post(reverse("accounts:api_tokens"), {"name": "x", "days": "3650"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()
    assert response.context["new_key"] is None


def test_service_refuses_missing_name_and_bad_days(cast):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        api_token_create(user=cast.officer_a, name="  ", days=30)
    with pytest.raises(ValidationError):
        api_token_create(user=cast.officer_a, name="x", days=0)
    with pytest.raises(ValidationError):
        api_token_create(user=cast.officer_a, name="x", days=366)
    assert not ApiToken.objects.exists()


def test_revoke_from_the_page_and_the_token_stops_working(cast):
    client, key = token_client(cast.officer_a)
    assert client.get(CODES_URL).status_code == 200
    token = ApiToken.objects.get(user=cast.officer_a)
    page = cast.client_for(cast.officer_a)
    response = page.post(reverse("accounts:api_token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = client.get(CODES_URL)
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Token"


def test_revoking_another_users_token_is_404(cast):
    token, _ = api_token_create(user=cast.officer_a, name="a", days=30)
    page = cast.client_for(cast.officer_b)
    response = page.post(reverse("accounts:api_token_revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize(
    ("who", "expected"),
    [("officer_a", 200), ("coordinator_a", 200), ("analyst_a", 200), ("admin_a", 200), ("nobody", 403)],
)
def test_token_page_by_role(cast, who, expected):
    response = cast.client_for(getattr(cast, who)).get(reverse("accounts:api_tokens"))
    assert response.status_code == expected


def test_token_page_sends_anonymous_visitors_to_login(cast):
    response = cast.client_for(None).get(reverse("accounts:api_tokens"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_revoke_needs_post(cast):
    token, _ = api_token_create(user=cast.officer_a, name="a", days=30)
    response = cast.client_for(cast.officer_a).get(reverse("accounts:api_token_revoke", args=[token.pk]))
    assert response.status_code == 405


# --- Authentication ------------------------------------------------------------------------------------------


def test_valid_token_authenticates_and_records_last_use(cast):
    client, key = token_client(cast.analyst_a)
    response = client.get(CODES_URL)
    assert response.status_code == 200
    token = ApiToken.objects.get(user=cast.analyst_a)
    assert token.last_used_at is not None


def test_expired_token_is_401(cast):
    client, key = token_client(cast.officer_a)
    ApiToken.objects.filter(user=cast.officer_a).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(CODES_URL)
    assert response.status_code == 401
    assert api_token_authenticate(key) is None


@pytest.mark.parametrize(
    "header",
    [
        "Token conatt_deadbeef0000_nothing",
        "Token not-a-key",
        "Token a b",
        "Token",
    ],
)
def test_malformed_or_unknown_token_is_401(cast, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get(CODES_URL).status_code == 401


def test_right_prefix_wrong_secret_is_401(cast):
    _, key = token_client(cast.officer_a)
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {forged}")
    assert client.get(CODES_URL).status_code == 401


def test_token_of_a_deactivated_user_is_401(cast):
    client, _ = token_client(cast.officer_a)
    cast.officer_a.is_active = False
    cast.officer_a.save()
    assert client.get(CODES_URL).status_code == 401


def test_no_credentials_is_401_with_token_challenge(cast):
    response = APIClient().get(CODES_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_token_acts_with_current_memberships(cast):
    """Removing a membership takes effect at once for existing tokens."""
    client, _ = token_client(cast.officer_a)
    assert client.get("/api/v1/applications/").status_code == 200
    cast.officer_a.memberships.update(active=False)
    assert client.get("/api/v1/applications/").status_code == 403


def test_api_token_revoke_service_is_idempotent(cast):
    token, _ = api_token_create(user=cast.officer_a, name="a", days=30)
    first = api_token_revoke(user=cast.officer_a, token_id=token.pk).revoked_at
    second = api_token_revoke(user=cast.officer_a, token_id=token.pk).revoked_at
    assert first == second is not None


# --- Throttling ----------------------------------------------------------------------------------------------


def _rates(**rates):
    return {**api_settings.DEFAULT_THROTTLE_RATES, **rates}


def test_throttle_per_token(cast):
    from django.conf import settings

    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": _rates(token="3/hour", user="100/hour")}
    ):
        first, _ = token_client(cast.officer_a)
        second, _ = token_client(cast.officer_a)
        assert [first.get(CODES_URL).status_code for _ in range(3)] == [200, 200, 200]
        refused = first.get(CODES_URL)
        assert refused.status_code == 429
        assert "Retry-After" in refused
        # Another token of the same user has its own share.
        assert second.get(CODES_URL).status_code == 200


def test_throttle_per_user_spans_tokens_and_session(cast):
    from django.conf import settings

    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": _rates(token="100/hour", user="4/hour")}
    ):
        first, _ = token_client(cast.officer_a)
        second, _ = token_client(cast.officer_a)
        session = cast.client_for(cast.officer_a)
        codes = [first.get(CODES_URL).status_code, first.get(CODES_URL).status_code]
        codes += [second.get(CODES_URL).status_code, session.get(CODES_URL).status_code]
        assert codes == [200, 200, 200, 200]
        assert second.get(CODES_URL).status_code == 429
        assert session.get(CODES_URL).status_code == 429
        # Another user is not affected.
        other, _ = token_client(cast.officer_b)
        assert other.get(CODES_URL).status_code == 200


def test_access_denied_is_logged_without_data(cast):
    client, _ = token_client(cast.analyst_a)
    assert client.get("/api/v1/applications/").status_code == 403
    event = AccessEvent.objects.get(action=AccessEvent.Action.ACCESS_DENIED, user=cast.analyst_a)
    assert event.detail == "api-application-list"


def test_api_answers_are_not_cached(cast):
    client, _ = token_client(cast.officer_a)
    response = client.get("/api/v1/applications/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_token_page_answers_are_not_cached(cast):
    response = cast.client_for(cast.officer_a).post(reverse("accounts:api_tokens"), {"name": "x", "days": "30"})
    assert response.context["new_key"]
    assert response["Cache-Control"] == "no-store"
