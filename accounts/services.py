"""Writes of the accounts area that admins trigger from the portal's admin (roles: ``accounts.memberships``).

Rules enforced here:
- only an admin who administers the account (``access.can_manage_user``: a system admin, or the admin of the
  account's only institution) creates or changes it, lifts its login lockout or resets its second factor;
- no admin ever sets or learns a user's password: a new account, and an admin's password reset, get a one-time
  link sent to the user's own e-mail address (``PASSWORD_LINK_HOURS``); a reset also ends the old password and
  removes the second factor, which the user enrols again themselves at the next login;
- the user is told by e-mail of a reset, of a removed second factor and of a changed e-mail address (to the old
  address); a new address puts the account's case-reading roles back to "awaiting a second admin", because the
  next password link would go there;
- each act writes an ``AccessEvent`` with who did it, whose account, and counts; never a password, code or
  secret, nor the link.
"""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import access, memberships
from .models import AccessEvent, User


def _audit(*, by: User, action: str, user: User, detail: str, ip: str | None) -> None:
    AccessEvent.objects.create(
        user=by, action=action, object_type="accounts.user", object_id=str(user.pk), detail=detail, ip_address=ip
    )


def _require_manager(by: User, user: User) -> None:
    if not access.can_administer(by) or not access.can_manage_user(by, user):
        raise PermissionDenied


def _tell(user: User, template: str, context: dict, *, to: str | None = None) -> None:
    """E-mail ``user`` (in the portal's default language: accounts carry no language of their own). Sent inside
    the caller's transaction, so an act whose user cannot be told is not done either."""
    address = to or user.email
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"accounts/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"accounts/email/{template}.txt", {"user": user, **context})
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])


def _password_link(user: User, site_url: str) -> str:
    # Django's token is bound to the password hash and the last login: it stops working once used.
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("accounts:password_set", args=[uid, default_token_generator.make_token(user)])
    return site_url.rstrip("/") + path


def _remove_devices(user: User) -> int:
    return TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]


def _require_address(user: User) -> None:
    if not user.email:
        raise ValidationError(_("The user has no e-mail address to send the link to."), "no_email")


@transaction.atomic
def user_create(*, by: User, user: User, site_url: str, ip: str | None = None) -> User:
    """Save the new account ``user`` (built from the admin's form) without a usable password and send its
    holder a one-time link to choose one. Roles are granted apart (``memberships.membership_grant``)."""
    if not access.can_administer(by):
        raise PermissionDenied
    _require_address(user)
    user.set_unusable_password()
    user.save()
    _audit(by=by, action=AccessEvent.Action.USER_CREATE, user=user, detail="", ip=ip)
    _audit(by=by, action=AccessEvent.Action.PASSWORD_LINK, user=user, detail="invitation", ip=ip)
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    _tell(user, "invitation", {"link": _password_link(user, site_url), "hours": hours})
    return user


_CHANGEABLE = ("first_name", "last_name", "email", "is_active")


@transaction.atomic
def user_update(*, by: User, user: User, changes: dict, ip: str | None = None) -> User:
    """Change an account's name, e-mail address or active flag. A new address is told to the old one and puts
    the roles that read cases back to "awaiting a second admin"."""
    user = User.objects.select_for_update().get(pk=user.pk)
    _require_manager(by, user)
    changes = {field: value for field, value in changes.items() if field in _CHANGEABLE}
    changed = sorted(field for field, value in changes.items() if getattr(user, field) != value)
    if not changed:
        return user
    old_email = user.email
    for field in changed:
        setattr(user, field, changes[field])
    if "email" in changed:
        _require_address(user)
    user.save(update_fields=changed)
    _audit(by=by, action=AccessEvent.Action.USER_CHANGE, user=user, detail="fields=" + ",".join(changed), ip=ip)
    if "email" in changed:
        memberships.memberships_unconfirm(by=by, user=user, reason="email_changed", ip=ip)
        if old_email:
            _tell(user, "email_changed", {}, to=old_email)
    return user


@transaction.atomic
def user_password_reset(*, by: User, user: User, site_url: str, ip: str | None = None) -> int:
    """An admin's reset of a forgotten password, which never hands the account to the admin: the old password
    stops working (open sessions end with it), the second factor is removed, and the user gets a one-time link
    at their own address to choose a new password, then enrols a new second factor. Returns devices removed."""
    user = User.objects.select_for_update().get(pk=user.pk)
    _require_manager(by, user)
    _require_address(user)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    removed = _remove_devices(user)
    _audit(by=by, action=AccessEvent.Action.PASSWORD_LINK, user=user, detail=f"reset devices={removed}", ip=ip)
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    _tell(user, "password_reset", {"link": _password_link(user, site_url), "hours": hours, "by": by})
    return removed


def user_password_set_audit(*, user: User, ip: str | None = None) -> None:
    """The holder chose a password from their one-time link."""
    _audit(by=user, action=AccessEvent.Action.PASSWORD_SET, user=user, detail="", ip=ip)


def user_login_unlock(*, by: User, user: User, ip: str | None = None) -> int:
    """Lift every login lockout of ``user`` at once, from every address (what ``manage.py axes_reset_username``
    does), instead of waiting for the cool-off. Returns how many lockout records were removed."""
    _require_manager(by, user)
    with transaction.atomic():
        removed = axes_reset(username=user.get_username())
        _audit(by=by, action=AccessEvent.Action.LOGIN_UNLOCK, user=user, detail=f"attempts={removed}", ip=ip)
    return removed


def user_two_factor_reset(*, by: User, user: User, ip: str | None = None) -> int:
    """Remove ``user``'s second-factor devices (a lost phone): a user whose role needs one is then asked to
    enrol a new one before any page, at their next login and in a session already open (django-otp finds no
    device behind the session's verification). The admin never holds the password, so the new device is the
    user's own. The user is told. Returns how many devices were removed."""
    _require_manager(by, user)
    with transaction.atomic():
        removed = _remove_devices(user)
        _audit(by=by, action=AccessEvent.Action.TWO_FACTOR_RESET, user=user, detail=f"devices={removed}", ip=ip)
        if user.email:
            _tell(user, "two_factor_reset", {"by": by})
    return removed


# --- The user's own second factor ------------------------------------------------------------------------------


def two_factor_device_pending(*, user: User) -> TOTPDevice:
    """The authenticator ``user`` is enrolling: the unconfirmed one from an earlier visit (so a reload shows the
    same QR code the phone may already hold), or a new one with a fresh secret."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def two_factor_confirm(*, user: User, device: TOTPDevice, code: str) -> bool:
    """Confirm ``user``'s pending ``device`` with a ``code`` from it. Returns whether the code was right; a wrong
    code changes nothing."""
    if device.user_id != user.pk or device.confirmed:
        raise PermissionDenied
    if not device.verify_token(code):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True
