"""The portal's base: a home page per role, Spanish first with English selectable, logins audited."""

import pytest
from django.urls import reverse

from accounts import access
from accounts.models import AccessEvent, Role

from .cast import PASSWORD

HOME_HEADINGS = {
    # role attribute -> (Spanish heading, English heading) of its home page
    "officer_a": ("Solicitudes de su institución", "Applications of your institution"),
    "coordinator_a": ("Cola de revisión del ERI", "ERI review queue"),
    "analyst_a": ("Indicadores y reportes", "Indicators and reports"),
    "admin_a": ("Administración", "Administration"),
}


@pytest.mark.parametrize("member", sorted(HOME_HEADINGS))
def test_each_role_lands_on_its_home_page_in_spanish(cast, member):
    response = cast.client_for(getattr(cast, member)).get(reverse("home"))
    assert response.status_code == 200
    spanish, english = HOME_HEADINGS[member]
    assert spanish in response.content.decode()
    assert english not in response.content.decode()
    assert response.headers["Content-Language"] == "es"


def test_spanish_whatever_the_browser_asks_for(cast):
    response = cast.client_for(cast.officer_a).get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Solicitudes de su institución" in response.content.decode()


def test_english_is_selectable_and_sticks(cast):
    client = cast.client_for(cast.officer_a)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")}, follow=True)
    assert response.status_code == 200
    assert "Applications of your institution" in response.content.decode()
    assert "Solicitudes de su institución" not in response.content.decode()
    assert client.get(reverse("home")).headers["Content-Language"] == "en"


def test_anonymous_visitor_is_sent_to_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_login_page_is_spanish_by_default(client, db):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert "Iniciar sesión" in response.content.decode()


def test_user_without_membership_is_told_to_ask_for_a_role(cast):
    response = cast.client_for(cast.nobody).get(reverse("home"))
    assert response.status_code == 403
    assert "no tiene un rol" in response.content.decode()


def test_real_login_reaches_officer_home_and_is_audited(client, cast):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=cast.officer_a, name="phone", confirmed=True)
    response = client.post(
        reverse("accounts:login"), {"username": cast.officer_a.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:two_factor_verify"))  # officers give a code
    code = str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift)).zfill(device.digits)
    response = client.post(f"{reverse('accounts:two_factor_verify')}?next=/", {"otp_token": code}, follow=True)
    assert response.status_code == 200
    assert "Solicitudes de su institución" in response.content.decode()
    event = AccessEvent.objects.filter(user=cast.officer_a, action=AccessEvent.Action.LOGIN).get()
    assert PASSWORD not in str(event.__dict__)


def test_failed_login_is_audited_without_the_attempt(client, cast):
    client.post(reverse("accounts:login"), {"username": cast.officer_a.username, "password": "wrong-password-1"})
    event = AccessEvent.objects.get(action=AccessEvent.Action.LOGIN_FAILED)
    assert event.user is None
    assert "wrong-password-1" not in str(event.__dict__)
    assert cast.officer_a.username not in str(event.__dict__)


def test_inactive_membership_grants_nothing(cast):
    cast.officer_a.memberships.update(active=False)
    user = type(cast.officer_a).objects.get(pk=cast.officer_a.pk)
    assert access.roles(user) == frozenset()
    assert not access.applications_visible_to(user).exists()
    assert access.home_role(user) is None


def test_roles_do_not_leak_between_institutions(cast):
    assert access.institution_ids(cast.officer_a, Role.OFFICER) == {cast.institution_a.pk}
    assert access.institution_ids(cast.officer_b, Role.OFFICER) == {cast.institution_b.pk}
    assert access.institution_ids(cast.analyst_a, Role.OFFICER) == set()


def test_anonymous_user_sees_no_applications(db):
    from django.contrib.auth.models import AnonymousUser

    assert list(access.applications_visible_to(AnonymousUser())) == []
    assert access.roles(AnonymousUser()) == frozenset()
