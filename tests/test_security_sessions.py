"""Sessions (new id at login, 30 minutes idle, dead after logout) and the production configuration (secure
cookies, refusal of an insecure start, Django's deploy check), the latter in fresh interpreters because
settings are read once per process."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from .security_helpers import login

BASE_DIR = str(settings.BASE_DIR)


# --- sessions ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_issues_a_new_session_id(cast):
    client = Client()
    # An anonymous session exists first (as a planted, fixated id would).
    session = client.session
    session["planted"] = "yes"
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert Session.objects.filter(session_key=before).exists()

    assert login(client, cast.officer_a.username).status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()

    # The planted id does not carry the login.
    fixated = Client()
    fixated.cookies[settings.SESSION_COOKIE_NAME] = before
    assert fixated.get("/").status_code == 302


def _at(moment):
    """Run the request as if the clock showed ``moment`` (sessions read django.utils.timezone.now)."""
    return mock.patch("django.utils.timezone.now", return_value=moment)


@pytest.mark.django_db
def test_session_expires_after_thirty_minutes_idle_and_activity_renews_it(cast):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    client = Client()
    start = timezone.now()
    with _at(start):
        # An analyst: no second factor to give after the password (tests/test_security_login.py covers it).
        login(client, cast.analyst_a.username)
        assert client.get("/").status_code == 200
    # 29 minutes idle: still in, and the visit renews the 30 minutes.
    with _at(start + timedelta(minutes=29)):
        assert client.get("/").status_code == 200
    # 58 minutes after login but only 29 idle: still in.
    with _at(start + timedelta(minutes=58)):
        assert client.get("/").status_code == 200
    # 31 minutes idle: out, sent to the login page.
    with _at(start + timedelta(minutes=58 + 31)):
        response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_old_cookie_is_rejected_after_logout(cast):
    client = Client()
    login(client, cast.analyst_a.username)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get("/").status_code == 200

    assert client.post("/accounts/logout/").status_code == 302
    assert not Session.objects.filter(session_key=cookie).exists()

    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = replay.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_logout_needs_a_post(cast):
    """A GET (an image tag on another site) must not end a session; Django 5 only logs out on POST."""
    client = cast.client_for(cast.officer_a)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/").status_code == 200


# --- production configuration --------------------------------------------------------------------------------


def _production_env(**overrides) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        CONATT_ENV="production",
        DJANGO_SETTINGS_MODULE="conatt_portal.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        PERSON_KEY_SECRET=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="conatt.example.org",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


_READ_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
names = ["DEBUG", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
         "CSRF_COOKIE_SECURE", "CSRF_COOKIE_HTTPONLY", "CSRF_COOKIE_SAMESITE", "LANGUAGE_COOKIE_SECURE",
         "LANGUAGE_COOKIE_HTTPONLY", "LANGUAGE_COOKIE_SAMESITE", "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT",
         "SESSION_COOKIE_AGE", "SESSION_SAVE_EVERY_REQUEST", "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY",
         "SECURE_CONTENT_TYPE_NOSNIFF"]
print(json.dumps({n: getattr(settings, n) for n in names}))
"""


def test_production_cookies_are_secure_httponly_and_samesite():
    result = _run(["-c", _READ_SETTINGS], _production_env())
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    for prefix in ("SESSION", "CSRF", "LANGUAGE"):
        assert values[f"{prefix}_COOKIE_SECURE"] is True
        assert values[f"{prefix}_COOKIE_HTTPONLY"] is True
        assert values[f"{prefix}_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_AGE"] == 1800
    assert values["SESSION_SAVE_EVERY_REQUEST"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_REFERRER_POLICY"] in ("same-origin", "strict-origin", "no-referrer")
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True


_SET_COOKIE = """
import django
django.setup()
from django.test import Client, override_settings
# No collectstatic here: the manifest storage of production is swapped for the plain one, nothing else.
plain = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
with override_settings(STORAGES=plain):
    response = Client(HTTP_HOST="conatt.example.org").get("/accounts/login/", secure=True)
assert response.status_code == 200, response.status_code
for morsel in response.cookies.values():
    print(morsel.OutputString())
"""


def test_production_set_cookie_headers_carry_the_flags():
    """What the browser receives: the CSRF cookie set by the login page is Secure, HttpOnly and SameSite."""
    result = _run(["-c", _SET_COOKIE], _production_env())
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "=" in line]
    assert any(line.startswith("csrftoken=") for line in lines), result.stdout
    for line in lines:
        assert "Secure" in line
        assert "HttpOnly" in line
        assert "SameSite=" in line


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"DEBUG": "true"}, "DEBUG must be off"),
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "short-but-random-9f8a7b"}, "SECRET_KEY"),
        ({"SECRET_KEY": "a" * 64}, "SECRET_KEY"),
        ({"SECRET_KEY": "insecure-development-key-do-not-use-in-production"}, "SECRET_KEY"),
        ({"PERSON_KEY_SECRET": None}, "PERSON_KEY_SECRET"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
    ],
    ids=[
        "debug-on",
        "no-secret",
        "short-secret",
        "one-letter-secret",
        "default-secret",
        "no-person-key",
        "no-hosts",
        "empty-hosts",
    ],
)
def test_production_refuses_an_insecure_start(overrides, reason):
    result = _run(["manage.py", "check"], _production_env(**overrides))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "Refusing to start in production" in result.stderr
    assert reason in result.stderr


def test_production_passes_the_deploy_check():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
