"""Brute force (django-axes with the portal's pair-and-account handler), login audit and two-factor for the
roles that need it. Every login here goes through the real login form, as a browser's would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccessEvent

from .cast import PASSWORD
from .security_helpers import login

OFFICE = "203.0.113.10"  # one public address shared by a whole institution's office
WRONG = "not the password at all 0"


def _is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- brute force ---------------------------------------------------------------------------------------------


def test_settings_name_real_axes_options():
    """The handler is the portal's; the pair is the lockout parameter; both limits are as documented."""
    assert settings.AXES_HANDLER == "accounts.lockout.PairAndAccountLockoutHandler"
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.CONATT_AXES_USERNAME_FAILURE_LIMIT == 20
    assert timedelta(minutes=30) == settings.AXES_COOLOFF_TIME


@pytest.mark.django_db
def test_five_failures_from_one_address_lock_that_account_at_that_address_only(cast):
    username = cast.officer_a.username
    statuses = [login(Client(), username, WRONG, ip=OFFICE).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure is answered with the lockout page
    # The right password from the same address is now refused with the lockout page.
    client = Client()
    response = login(client, username, ip=OFFICE)
    assert response.status_code == 429
    assert not _is_logged_in(client)
    # The same person from another address still logs in (the pair is locked, not the account).
    elsewhere = Client()
    assert login(elsewhere, username, ip="198.51.100.7").status_code == 302
    assert _is_logged_in(elsewhere)


@pytest.mark.django_db
def test_another_user_behind_the_same_address_still_logs_in(cast):
    for _ in range(8):
        login(Client(), cast.officer_a.username, WRONG, ip=OFFICE)
    colleague = Client()
    response = login(colleague, cast.analyst_b.username, ip=OFFICE)
    assert response.status_code == 302
    assert _is_logged_in(colleague)


@pytest.mark.django_db
def test_twenty_failures_from_five_addresses_lock_the_account_everywhere(cast):
    username = cast.officer_a.username
    addresses = [f"192.0.2.{n}" for n in range(1, 6)]
    for attempt in range(20):
        ip = addresses[attempt % 5]  # 4 per address: never reaches the per-pair limit of 5
        assert login(Client(), username, WRONG, ip=ip).status_code in (200, 429)
    assert AccessAttempt.objects.filter(username=username).count() == 5
    # The right password is refused from any address, including one never used by the attacker.
    for ip in [*addresses, "198.51.100.99"]:
        client = Client()
        assert login(client, username, ip=ip).status_code == 429
        assert not _is_logged_in(client)
    # Everyone else, from the attacker's addresses too, still logs in.
    other = Client()
    assert login(other, cast.officer_b.username, ip=addresses[0]).status_code == 302


@pytest.mark.django_db
def test_nineteen_failures_from_five_addresses_do_not_lock(cast):
    username = cast.officer_a.username
    for attempt in range(19):
        login(Client(), username, WRONG, ip=f"192.0.2.{attempt % 5 + 1}")
    client = Client()
    assert login(client, username, ip="198.51.100.99").status_code == 302


@pytest.mark.django_db
def test_lockout_ends_after_the_cool_off(cast):
    username = cast.officer_a.username
    for attempt in range(20):
        login(Client(), username, WRONG, ip=f"192.0.2.{attempt % 5 + 1}")
    assert login(Client(), username, ip=OFFICE).status_code == 429

    # 29 minutes later: still locked. (The attempts are moved back in time instead of sleeping.)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=29))
    assert login(Client(), username, ip=OFFICE).status_code == 429

    # 31 minutes after the last failure: the lock has ended and the right password works.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    client = Client()
    assert login(client, username, ip=OFFICE).status_code == 302
    assert _is_logged_in(client)


@pytest.mark.django_db
def test_lockout_page_is_in_spanish(cast):
    for _ in range(5):
        login(Client(), cast.officer_a.username, WRONG, ip=OFFICE)
    response = login(Client(), cast.officer_a.username, ip=OFFICE)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Demasiados intentos fallidos" in page
    assert "durante 30 minutos por demasiados intentos fallidos" in page
    assert "Too many failed attempts" not in page


@pytest.mark.django_db
def test_lockout_page_keeps_the_attempted_password_out(cast):
    for _ in range(5):
        login(Client(), cast.officer_a.username, WRONG, ip=OFFICE)
    response = login(Client(), cast.officer_a.username, ip=OFFICE)
    assert PASSWORD not in response.content.decode()
    # axes keeps the request data of each attempt: the password and the CSRF token are masked there.
    for attempt in AccessAttempt.objects.all():
        assert WRONG not in attempt.post_data
        assert PASSWORD not in attempt.post_data


# --- audit of logins -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_logins_and_failed_logins_are_audited_without_sensitive_values(cast):
    username = cast.officer_a.username
    login(Client(), username, WRONG, ip=OFFICE)
    client = Client()
    login(client, username, ip=OFFICE)
    client.post("/accounts/logout/", REMOTE_ADDR=OFFICE)

    actions = list(AccessEvent.objects.order_by("pk").values_list("action", "user_id", "ip_address"))
    assert actions == [
        (AccessEvent.Action.LOGIN_FAILED, None, OFFICE),
        (AccessEvent.Action.LOGIN, cast.officer_a.pk, OFFICE),
        (AccessEvent.Action.LOGOUT, cast.officer_a.pk, OFFICE),
    ]
    for event in AccessEvent.objects.all():
        stored = " ".join(str(v) for v in event.__dict__.values())
        assert WRONG not in stored
        assert PASSWORD not in stored
        # The attempted username may be a mistyped password: it is not kept either.
        assert username not in stored


# --- two-factor ----------------------------------------------------------------------------------------------


def _code(device: TOTPDevice, *, offset: int = 0) -> str:
    return str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift + offset)).zfill(device.digits)


@pytest.mark.django_db
@pytest.mark.parametrize("member", ["coordinator_a", "admin_a"])
def test_admins_and_coordinators_enrol_with_a_qr_code_then_proceed(cast, member):
    user = getattr(cast, member)
    client = Client()
    assert login(client, user.username).status_code == 302

    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/setup/")
    # Other pages, the admin included, are held back too.
    for path in ("/admin/", "/accounts/password/"):
        assert client.get(path)["Location"].startswith("/accounts/two-factor/setup/")

    setup = client.get(response["Location"])
    assert setup.status_code == 200
    assert b"<svg" in setup.content  # the QR code, drawn on the server
    device = TOTPDevice.objects.get(user=user, confirmed=False)

    bad_code = "000000" if _code(device) != "000000" else "111111"
    wrong = client.post("/accounts/two-factor/setup/?next=/", {"otp_token": bad_code})
    assert wrong.status_code == 200
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    # Right after a wrong code even the right one is refused: django-otp throttles guessing (1 s, then 2, 4...).
    assert client.post("/accounts/two-factor/setup/?next=/", {"otp_token": _code(device)}).status_code == 200
    # Once the throttle delay has passed (moved back in time instead of sleeping), the right code enrols.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - timedelta(seconds=60))
    done = client.post("/accounts/two-factor/setup/?next=/", {"otp_token": _code(device)})
    assert done.status_code == 302
    assert done["Location"] == "/"
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get("/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("member", ["coordinator_b", "admin_b"])
def test_enrolled_admins_and_coordinators_must_give_a_code_at_each_login(cast, member):
    user = getattr(cast, member)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    login(client, user.username)
    response = client.get("/")
    assert response["Location"].startswith("/accounts/two-factor/verify/")
    assert client.get(response["Location"]).status_code == 200

    assert client.post("/accounts/two-factor/verify/?next=/", {"otp_token": "12345"}).status_code == 200
    assert client.get("/").status_code == 302  # still held back

    done = client.post("/accounts/two-factor/verify/?next=/", {"otp_token": _code(device)})
    assert done.status_code == 302
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_verify_does_not_redirect_to_another_site(cast):
    device = TOTPDevice.objects.create(user=cast.coordinator_a, name="phone", confirmed=True)
    client = Client()
    login(client, cast.coordinator_a.username)
    done = client.post("/accounts/two-factor/verify/?next=https://evil.example/", {"otp_token": _code(device)})
    assert done.status_code == 302
    assert "evil.example" not in done["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("member", ["analyst_a", "analyst_b"])
def test_analysts_are_not_forced_to_enrol(cast, member):
    """Analysts read protected aggregates only, never identity data: no second factor by default."""
    client = Client()
    login(client, getattr(cast, member).username)
    response = client.get("/")
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=getattr(cast, member)).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("member", ["officer_a", "officer_b"])
def test_officers_must_enrol_a_second_factor_before_any_page(cast, member):
    """Officers see their institution's identity data: like coordinators and admins, they enrol a TOTP device
    at their first login and give a code at every login (issue 14.8)."""
    user = getattr(cast, member)
    client = Client()
    login(client, user.username)
    for path in ("/", "/records/", "/api/v1/applications/", "/accounts/tokens/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/two-factor/setup/"), path
    assert b"<svg" in client.get("/accounts/two-factor/setup/?next=/records/").content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post("/accounts/two-factor/setup/?next=/records/", {"otp_token": _code(device)}).status_code == 302
    assert client.get("/records/").status_code == 200


@pytest.mark.django_db
def test_the_roles_that_need_a_second_factor_are_a_setting(cast, settings):
    """A deployment phasing two-factor in for officers lists the roles that need it meanwhile."""
    settings.TWO_FACTOR_REQUIRED_ROLES = ["coordinator", "admin"]
    client = Client()
    login(client, cast.officer_a.username)
    assert client.get("/records/").status_code == 200
    coordinator = Client()
    login(coordinator, cast.coordinator_a.username)
    assert coordinator.get("/records/queue/")["Location"].startswith("/accounts/two-factor/setup/")


# --- admins lift lockouts and reset second factors from the portal admin --------------------------------------


@pytest.mark.django_db
def test_admins_lift_a_lockout_from_the_portal_admin_and_it_is_audited(cast):
    from django.urls import reverse

    username = cast.officer_a.username
    for _ in range(5):
        login(Client(), username, WRONG, ip=OFFICE)
    assert login(Client(), username, ip=OFFICE).status_code == 429
    admin = cast.client_for(cast.admin_a)
    changelist = reverse("admin:accounts_user_changelist")
    response = admin.post(changelist, {"action": "unlock_login", "_selected_action": [cast.officer_a.pk]}, follow=True)
    assert response.status_code == 200
    assert "Bloqueo de inicio de sesión levantado para 1 usuario" in response.content.decode()
    client = Client()
    assert login(client, username, ip=OFFICE).status_code == 302 and _is_logged_in(client)
    event = AccessEvent.objects.get(action=AccessEvent.Action.LOGIN_UNLOCK)
    assert (event.user, event.object_type, event.object_id) == (cast.admin_a, "accounts.user", str(cast.officer_a.pk))
    assert event.detail.startswith("attempts=") and event.detail != "attempts=0"
    assert username not in event.detail and WRONG not in event.detail


@pytest.mark.django_db
def test_admins_reset_a_lost_second_factor_and_the_user_enrols_again(cast):
    from django.core.exceptions import PermissionDenied
    from django.urls import reverse

    from accounts import services

    coordinator = cast.client_for(cast.coordinator_a)  # a session verified with the coordinator's device
    assert coordinator.get(reverse("records:queue")).status_code == 200
    admin = cast.client_for(cast.admin_a)
    changelist = reverse("admin:accounts_user_changelist")
    response = admin.post(
        changelist, {"action": "reset_two_factor", "_selected_action": [cast.coordinator_a.pk]}, follow=True
    )
    assert "Dispositivos de doble factor restablecidos para 1 usuario" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=cast.coordinator_a).exists()
    # The open session is no longer verified: the next page asks to enrol a new device first.
    response = coordinator.get(reverse("records:queue"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:two_factor_setup"))
    event = AccessEvent.objects.get(action=AccessEvent.Action.TWO_FACTOR_RESET)
    assert (event.user, event.object_id, event.detail) == (cast.admin_a, str(cast.coordinator_a.pk), "devices=1")
    # Only the admin role: the admin site sends anyone else to its login page, and the services refuse.
    admin_devices = TOTPDevice.objects.filter(user=cast.admin_a).count()
    officer = cast.client_for(cast.officer_a)
    response = officer.post(changelist, {"action": "reset_two_factor", "_selected_action": [cast.admin_a.pk]})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert TOTPDevice.objects.filter(user=cast.admin_a).count() == admin_devices
    for service in (services.user_two_factor_reset, services.user_login_unlock):
        with pytest.raises(PermissionDenied):
            service(by=cast.coordinator_a, user=cast.admin_a)
