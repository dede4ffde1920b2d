"""Separation of duties (issues 14.7 and 20.2): nobody grants a role to themselves, a role that reads cases takes
effect only when a second admin confirms it, institutional admins manage only their institution's users, no
admin sets or learns a password, and every change is in the access log. Most steps go through the admin pages,
as an admin would."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import is_password_usable
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import access, memberships
from accounts.models import AccessEvent, Institution, Membership, Role, User

from .cast import PASSWORD, make_user
from .security_helpers import login

NEW_PASSWORD = "a brand new passphrase 77"


def _change_url(user) -> str:
    return reverse("admin:accounts_user_change", args=[user.pk])


def _user_form(by, user, *, new_rows=(), **fields) -> dict:
    """The POST of the admin's user page: the account's fields, the rows already shown (as the page lists
    them) and new rows of (institution, role)."""
    shown = list(access.memberships_administered_by(by).filter(user=user))
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "memberships-TOTAL_FORMS": str(len(shown) + len(new_rows)),
        "memberships-INITIAL_FORMS": str(len(shown)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "_save": "Guardar",
    }
    for i, membership in enumerate(shown):
        data[f"memberships-{i}-id"] = str(membership.pk)
        data[f"memberships-{i}-user"] = str(user.pk)
        if membership.active:
            data[f"memberships-{i}-active"] = "on"
    for j, (institution, role) in enumerate(new_rows, start=len(shown)):
        data[f"memberships-{j}-user"] = str(user.pk)
        data[f"memberships-{j}-institution"] = str(institution.pk)
        data[f"memberships-{j}-role"] = role
        data[f"memberships-{j}-active"] = "on"
    data.update(fields)
    return data


def _confirm(client, membership):
    return client.post(
        reverse("admin:accounts_membership_changelist"),
        {"action": "confirm", "_selected_action": [membership.pk]},
        follow=True,
    )


@pytest.fixture
def second_system_admin(cast):
    """A second admin of a coordination body, as a real deployment has (the demo has one per institution)."""
    return make_user("admin.eri", institution=Institution.objects.get(code="ERI"), role=Role.ADMIN)


# --- 14.7: nobody grants a role to themselves ------------------------------------------------------------------


@pytest.mark.django_db
def test_an_admin_cannot_make_themselves_coordinator(cast):
    eri = Institution.objects.get(code="ERI")
    admin = cast.client_for(cast.admin_a)
    response = admin.post(
        _change_url(cast.admin_a), _user_form(cast.admin_a, cast.admin_a, new_rows=[(eri, Role.COORDINATOR)])
    )
    assert response.status_code == 200  # the page again, with the refusal next to the row
    assert "Nadie se otorga un rol a sí mismo" in response.content.decode()
    assert not Membership.objects.filter(user=cast.admin_a, role=Role.COORDINATOR).exists()
    assert not access.can_decide(User.objects.get(pk=cast.admin_a.pk))
    with pytest.raises(ValidationError) as refused:
        memberships.membership_grant(by=cast.admin_a, user=cast.admin_a, institution=eri, role=Role.COORDINATOR)
    assert refused.value.code == "self_grant"


# --- 14.7: a case-reading role waits for a second admin ----------------------------------------------------------


@pytest.mark.django_db
def test_a_coordinator_role_takes_effect_only_when_a_second_admin_confirms_it(cast, second_system_admin):
    eri = Institution.objects.get(code="ERI")
    newcomer = make_user("new.coordinator")
    admin = cast.client_for(cast.admin_a)
    response = admin.post(_change_url(newcomer), _user_form(cast.admin_a, newcomer, new_rows=[(eri, Role.COORDINATOR)]))
    assert response.status_code == 302
    membership = Membership.objects.get(user=newcomer, institution=eri, role=Role.COORDINATOR)
    assert membership.is_pending and membership.granted_by == cast.admin_a

    # Granted but not confirmed: the role grants nothing.
    assert cast.client_for(newcomer).get(reverse("records:queue")).status_code == 403

    # The admin who granted it cannot confirm it.
    page = _confirm(admin, membership).content.decode()
    assert "El administrador que otorgó un rol no puede confirmarlo" in page
    assert Membership.objects.get(pk=membership.pk).is_pending

    # A second admin does; from then on the role is in effect.
    second = cast.client_for(second_system_admin)
    assert "1 rol confirmado" in _confirm(second, membership).content.decode()
    membership.refresh_from_db()
    assert membership.confirmed_by == second_system_admin and membership.confirmed_at is not None
    assert cast.client_for(newcomer).get(reverse("records:queue")).status_code == 200

    # Both steps are in the access log, not only in Django's admin log.
    events = AccessEvent.objects.filter(object_type="accounts.membership", object_id=str(membership.pk))
    assert list(events.order_by("at", "pk").values_list("action", "user")) == [
        (AccessEvent.Action.MEMBERSHIP_GRANT, cast.admin_a.pk),
        (AccessEvent.Action.MEMBERSHIP_CONFIRM, second_system_admin.pk),
    ]
    assert "role=coordinator" in events.first().detail and "institution=ERI" in events.first().detail


@pytest.mark.django_db
def test_the_holder_cannot_confirm_their_own_role(cast, second_system_admin):
    """An admin granted a coordinator role by another admin does not confirm it themselves."""
    eri = Institution.objects.get(code="ERI")
    pending = memberships.membership_grant(
        by=cast.admin_a, user=second_system_admin, institution=eri, role=Role.COORDINATOR
    )
    with pytest.raises(ValidationError) as refused:
        memberships.membership_confirm(by=second_system_admin, membership=pending)
    assert refused.value.code == "self_confirm"
    assert not access.can_decide(User.objects.get(pk=second_system_admin.pk))


@pytest.mark.django_db
def test_an_analyst_role_takes_effect_at_once_and_withdrawing_is_logged(cast):
    """Protected aggregates need no second admin; a withdrawal takes effect at once and is logged."""
    inamu = cast.institution_a
    newcomer = make_user("new.analyst")
    granted = memberships.membership_grant(by=cast.admin_a, user=newcomer, institution=inamu, role=Role.ANALYST)
    assert access.can_view_reports(User.objects.get(pk=newcomer.pk))
    memberships.membership_deactivate(by=cast.admin_a, membership=granted)
    assert not access.can_view_reports(User.objects.get(pk=newcomer.pk))
    actions = AccessEvent.objects.filter(object_id=str(granted.pk), object_type="accounts.membership")
    assert set(actions.values_list("action", flat=True)) == {
        AccessEvent.Action.MEMBERSHIP_GRANT,
        AccessEvent.Action.MEMBERSHIP_DEACTIVATE,
    }


@pytest.mark.django_db
def test_an_unconfirmed_membership_grants_nothing_whatever_wrote_it(cast):
    """Visibility fails closed: a membership row written by any path without confirmation gives no role."""
    from tests.records_factories import make_application

    make_application(cast, state="SUBMITTED")
    outsider = make_user("written.directly")
    Membership.objects.create(user=outsider, institution=cast.institution_a, role=Role.OFFICER)
    Membership.objects.create(user=outsider, institution=Institution.objects.get(code="ERI"), role=Role.COORDINATOR)
    assert access.roles(outsider) == frozenset()
    assert not access.applications_visible_to(outsider).exists()


# --- 14.7: institutional admins -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_institutional_admin_manages_only_their_own_institutions_users(cast):
    dgme = Institution.objects.get(code="DGME")
    dgme_officer = make_user("officer.dgme", institution=dgme, role=Role.OFFICER)
    admin = cast.client_for(cast.admin_b)  # admin.dgme
    listing = admin.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "officer.dgme" in listing
    assert cast.officer_a.username not in listing and cast.coordinator_a.username not in listing

    # Another institution's user's page is not found, and nothing can be done to them.
    assert admin.get(_change_url(cast.officer_a)).status_code == 302  # the admin's "does not exist" redirect
    response = admin.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "send_password_link", "_selected_action": [cast.officer_a.pk]},
    )
    assert response.status_code == 302 and not mail.outbox

    # Their own institution only, even on their own user's page.
    page = admin.get(_change_url(dgme_officer)).content.decode()
    assert f'<option value="{dgme.pk}"' in page and f'<option value="{cast.institution_a.pk}"' not in page
    response = admin.post(
        _change_url(dgme_officer),
        _user_form(cast.admin_b, dgme_officer, new_rows=[(cast.institution_a, Role.OFFICER)]),
    )
    assert response.status_code == 200
    assert not Membership.objects.filter(user=dgme_officer, institution=cast.institution_a).exists()
    with pytest.raises(ValidationError) as refused:
        memberships.membership_grant(
            by=cast.admin_b, user=dgme_officer, institution=cast.institution_a, role=Role.OFFICER
        )
    assert refused.value.code == "scope"

    # Within DGME, the system admin confirms what the DGME admin granted.
    granted = memberships.membership_grant(
        by=cast.admin_b, user=make_user("analyst.dgme"), institution=dgme, role=Role.OFFICER
    )
    assert memberships.membership_confirm(by=cast.admin_a, membership=granted).confirmed_by == cast.admin_a


# --- 14.7: existing memberships and demo users --------------------------------------------------------------


@pytest.mark.django_db
def test_demo_users_hold_every_role_in_effect(cast):
    from accounts.demo import DEMO_MEMBERS, demo_users_create

    users = demo_users_create(password=PASSWORD)
    for name, _username, code, role in DEMO_MEMBERS:
        user = User.objects.get(pk=users[name].pk)
        assert role in access.roles(user), name
        assert code in {i.code for i in access.institutions(user, role)}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_memberships_made_before_the_change_stay_in_effect():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        ("accounts", "0005_accessevent_unlock_and_two_factor_reset"),
        (
            "accounts",
            "0006_membership_confirmation_and_account_audit",
        ),
    )
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps
    user = old.get_model("accounts", "User").objects.create(username="before.the.change")
    institution = old.get_model("accounts", "Institution").objects.get(code="INAMU")
    old.get_model("accounts", "Membership").objects.create(user=user, institution=institution, role="officer")
    executor = MigrationExecutor(connection)
    executor.migrate([after])
    membership = Membership.objects.get(user__username="before.the.change")
    assert membership.confirmed_at == membership.created_at
    assert Role.OFFICER in access.roles(User.objects.get(username="before.the.change"))


# --- 20.2: no admin sets or learns a password -----------------------------------------------------------------


def _link(message) -> str:
    return re.search(r"https?://\S+/accounts/password/set/\S+/", message.body).group(0)


@pytest.mark.django_db
def test_the_admin_has_no_password_form(cast):
    admin = cast.client_for(cast.admin_a)
    page = admin.get(_change_url(cast.coordinator_a)).content.decode()
    assert "password" not in page.lower().replace("password_change", "")
    assert admin.get(f"/admin/accounts/user/{cast.coordinator_a.pk}/password/").status_code in (302, 404)
    before = User.objects.get(pk=cast.coordinator_a.pk).password
    admin.post(
        f"/admin/accounts/user/{cast.coordinator_a.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert User.objects.get(pk=cast.coordinator_a.pk).password == before


@pytest.mark.django_db
def test_an_admins_password_reset_never_hands_over_the_account(cast):
    coordinator = cast.coordinator_a
    TOTPDevice.objects.create(user=coordinator, name="phone", confirmed=True)
    open_session = cast.client_for(coordinator)
    admin = cast.client_for(cast.admin_a)
    response = admin.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "send_password_link", "_selected_action": [coordinator.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "Se envió un enlace de contraseña de un solo uso a 1 usuario" in page

    # The link goes to the user only: not in the admin's page, and the user is told who did it.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [coordinator.email]
    link = _link(mail.outbox[0])
    assert link.split("/accounts/password/set/")[1] not in page
    assert cast.admin_a.username in mail.outbox[0].body

    # The old password, the open session and the second factor are gone.
    assert not is_password_usable(User.objects.get(pk=coordinator.pk).password)
    assert login(Client(), coordinator.username).status_code == 200  # the form again: wrong credentials
    assert open_session.get(reverse("records:queue")).status_code == 302
    assert not TOTPDevice.objects.filter(user=coordinator).exists()
    event = AccessEvent.objects.get(action=AccessEvent.Action.PASSWORD_LINK)
    assert (event.user, event.object_id) == (cast.admin_a, str(coordinator.pk))
    assert "devices=1" in event.detail

    # The user chooses the password with the link, once.
    user_browser = Client()
    form = user_browser.get(link, follow=True)
    assert form.status_code == 200 and "Elija su contraseña" in form.content.decode()
    done = user_browser.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("accounts:login")
    assert AccessEvent.objects.filter(action=AccessEvent.Action.PASSWORD_SET, user=coordinator).exists()
    again = Client().get(link, follow=True).content.decode()
    assert "Este enlace ya no funciona" in again

    # At the next login the user enrols their own second factor.
    client = Client()
    assert login(client, coordinator.username, NEW_PASSWORD).status_code == 302
    assert client.get("/")["Location"].startswith(reverse("accounts:two_factor_setup"))


@pytest.mark.django_db
def test_a_new_account_gets_a_link_and_no_password_from_the_admin(cast):
    admin = cast.client_for(cast.admin_a)
    add_page = admin.get(reverse("admin:accounts_user_add")).content.decode()
    assert 'name="password1"' not in add_page and 'name="password"' not in add_page
    response = admin.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "new.officer",
            "first_name": "Ana",
            "last_name": "Mora",
            "email": "ana.mora@example.org",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-institution": str(cast.institution_a.pk),
            "memberships-0-role": Role.OFFICER,
            "memberships-0-active": "on",
            "_save": "Guardar",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="new.officer")
    assert not is_password_usable(user.password)
    assert mail.outbox[0].to == ["ana.mora@example.org"] and _link(mail.outbox[0])
    assert Membership.objects.get(user=user).is_pending
    assert set(AccessEvent.objects.filter(object_id=str(user.pk)).values_list("action", flat=True)) >= {
        AccessEvent.Action.USER_CREATE,
        AccessEvent.Action.PASSWORD_LINK,
    }


@pytest.mark.django_db
def test_a_new_email_address_is_told_and_waits_for_a_second_admin(cast):
    """Changing the address would let an admin receive the next password link: the old address is told and
    the account's case-reading roles wait for a second admin again."""
    officer = cast.officer_a
    old_address = officer.email
    admin = cast.client_for(cast.admin_a)
    response = admin.post(_change_url(officer), _user_form(cast.admin_a, officer, email="admin.own@example.org"))
    assert response.status_code == 302
    assert mail.outbox[0].to == [old_address]
    membership = Membership.objects.get(user=officer)
    assert membership.is_pending and membership.granted_by == cast.admin_a
    assert cast.client_for(officer).get(reverse("records:application_list")).status_code == 403
    change = AccessEvent.objects.get(action=AccessEvent.Action.USER_CHANGE)
    assert (change.user, change.object_id, change.detail) == (cast.admin_a, str(officer.pk), "fields=email")


@pytest.mark.django_db
def test_a_removed_second_factor_is_told_to_the_user(cast):
    admin = cast.client_for(cast.admin_a)
    admin.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [cast.officer_b.pk]},
    )
    assert [m.to for m in mail.outbox] == [[cast.officer_b.email]]
    assert cast.admin_a.username in mail.outbox[0].body
