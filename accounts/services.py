"""Writes of the accounts area that admins trigger from the portal's admin.

Rules enforced here:
- only the admin role lifts a login lockout or resets someone's second factor (``access.can_administer``);
- each such act writes an ``AccessEvent`` with who did it, whose account, and a count; never a password, code
  or secret.
"""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import access
from .models import AccessEvent, User


def _audit(*, by: User, action: str, user: User, detail: str, ip: str | None) -> None:
    AccessEvent.objects.create(
        user=by, action=action, object_type="accounts.user", object_id=str(user.pk), detail=detail, ip_address=ip
    )


def user_login_unlock(*, by: User, user: User, ip: str | None = None) -> int:
    """Lift every login lockout of ``user`` at once, from every address (what ``manage.py axes_reset_username``
    does), instead of waiting for the cool-off. Returns how many lockout records were removed."""
    if not access.can_administer(by):
        raise PermissionDenied
    with transaction.atomic():
        removed = axes_reset(username=user.get_username())
        _audit(by=by, action=AccessEvent.Action.LOGIN_UNLOCK, user=user, detail=f"attempts={removed}", ip=ip)
    return removed


def user_two_factor_reset(*, by: User, user: User, ip: str | None = None) -> int:
    """Remove ``user``'s second-factor devices (a lost phone): an admin or coordinator is then asked to enrol a
    new one before any page, at their next login and in a session already open (django-otp finds no device
    behind the session's verification). Returns how many devices were removed."""
    if not access.can_administer(by):
        raise PermissionDenied
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
        _audit(by=by, action=AccessEvent.Action.TWO_FACTOR_RESET, user=user, detail=f"devices={removed}", ip=ip)
    return removed
