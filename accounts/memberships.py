"""Granting, confirming and withdrawing roles: separation of duties.

Rules enforced here (the admin calls these services; nothing else writes memberships):
- only an admin grants, confirms or withdraws a role, and only in an institution they administer
  (``access.institutions_administered_by``: a system admin everywhere, an institutional admin in their own);
- nobody grants a role to themselves;
- a role of ``ROLES_NEEDING_SECOND_ADMIN`` (officer, coordinator, admin) takes effect only when a second admin
  confirms it: neither the admin who granted it nor the person who receives it;
- every grant, confirmation and withdrawal writes an ``AccessEvent`` (who, whose account, which role where).

``membership_bootstrap`` is the one exception: the server's operator (``manage.py create_demo_users`` and
``manage.py grant_role``, run with shell access to the server, outside the portal) gives a role in effect at
once, so that a new deployment can have its first two admins. It is audited with no user.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import access
from .models import ROLES_NEEDING_SECOND_ADMIN, AccessEvent, Institution, Membership, User


def _audit(*, by: User | None, action: str, membership: Membership, ip: str | None, note: str = "") -> None:
    detail = f"user={membership.user_id} institution={membership.institution.code} role={membership.role}"
    AccessEvent.objects.create(
        user=by,
        action=action,
        object_type="accounts.membership",
        object_id=str(membership.pk),
        detail=f"{detail} {note}".strip(),
        ip_address=ip,
    )


def membership_grant_check(*, by: User, user: User, institution: Institution, role: str) -> None:
    """Raise ``ValidationError`` (a translated sentence with a stable code) if ``by`` may not grant ``role`` in
    ``institution`` to ``user``. Forms call it to show the refusal next to the row; the service calls it again."""
    if not access.can_administer(by) or not access.can_manage_institution(by, institution):
        raise ValidationError(_("You do not administer %(institution)s.") % {"institution": institution.code}, "scope")
    if user.pk is not None and user.pk == by.pk:
        raise ValidationError(_("Nobody grants a role to themselves: ask another admin."), "self_grant")
    if (
        user.pk is not None
        and Membership.objects.filter(user=user, institution=institution, role=role, active=True).exists()
    ):
        raise ValidationError(_("This user already holds this role in this institution."), "duplicate")


@transaction.atomic
def membership_grant(*, by: User, user: User, institution: Institution, role: str, ip: str | None = None) -> Membership:
    """Give ``user`` ``role`` in ``institution``. A role that reads cases (or the admin role) waits for a second
    admin's confirmation; others take effect at once. A withdrawn membership granted again starts over."""
    membership_grant_check(by=by, user=user, institution=institution, role=role)
    now = timezone.now()
    needs_second = role in ROLES_NEEDING_SECOND_ADMIN
    membership, _created = Membership.objects.select_for_update().get_or_create(
        user=user, institution=institution, role=role
    )
    membership.active = True
    membership.granted_by = by
    membership.confirmed_by = None
    membership.confirmed_at = None if needs_second else now
    membership.save()
    note = "awaiting_confirmation" if needs_second else "in_effect"
    _audit(by=by, action=AccessEvent.Action.MEMBERSHIP_GRANT, membership=membership, ip=ip, note=note)
    return membership


def membership_confirm_check(*, by: User, membership: Membership) -> None:
    if not access.can_administer(by) or not access.can_manage_institution(by, membership.institution):
        raise PermissionDenied
    if not membership.is_pending:
        raise ValidationError(_("This role does not await confirmation."), "not_pending")
    if by.pk == membership.user_id:
        raise ValidationError(_("Nobody confirms a role of their own: ask another admin."), "self_confirm")
    if by.pk == membership.granted_by_id:
        raise ValidationError(_("The admin who granted a role cannot confirm it: a second admin must."), "same_admin")


@transaction.atomic
def membership_confirm(*, by: User, membership: Membership, ip: str | None = None) -> Membership:
    """The second admin's confirmation, from which the role takes effect."""
    membership = Membership.objects.select_for_update().select_related("institution").get(pk=membership.pk)
    membership_confirm_check(by=by, membership=membership)
    membership.confirmed_by = by
    membership.confirmed_at = timezone.now()
    membership.save(update_fields=["confirmed_by", "confirmed_at"])
    _audit(by=by, action=AccessEvent.Action.MEMBERSHIP_CONFIRM, membership=membership, ip=ip)
    return membership


@transaction.atomic
def membership_deactivate(*, by: User, membership: Membership, ip: str | None = None) -> Membership:
    """Withdraw a role (at once, with no confirmation: taking a right away never needs two people). The row
    stays, with who granted and confirmed it; granting the role again starts over."""
    membership = Membership.objects.select_for_update().select_related("institution").get(pk=membership.pk)
    if not access.can_administer(by) or not access.can_manage_institution(by, membership.institution):
        raise PermissionDenied
    if membership.active:
        membership.active = False
        membership.save(update_fields=["active"])
        _audit(by=by, action=AccessEvent.Action.MEMBERSHIP_DEACTIVATE, membership=membership, ip=ip)
    return membership


@transaction.atomic
def memberships_unconfirm(*, by: User, user: User, reason: str, ip: str | None = None) -> int:
    """Put ``user``'s roles that need a second admin back to "awaiting confirmation" (after a change by an admin
    that could hand the account to someone else, such as a new e-mail address). Returns how many."""
    pending = 0
    held = Membership.objects.select_for_update().select_related("institution")
    held = held.filter(user=user, active=True, confirmed_at__isnull=False, role__in=ROLES_NEEDING_SECOND_ADMIN)
    for membership in held:
        membership.granted_by = by
        membership.confirmed_by = None
        membership.confirmed_at = None
        membership.save(update_fields=["granted_by", "confirmed_by", "confirmed_at"])
        _audit(by=by, action=AccessEvent.Action.MEMBERSHIP_GRANT, membership=membership, ip=ip, note=reason)
        pending += 1
    return pending


@transaction.atomic
def membership_bootstrap(*, user: User, institution: Institution, role: str) -> Membership:
    """The server operator's grant (demo users, the first admins of a deployment): in effect at once."""
    membership, _created = Membership.objects.get_or_create(user=user, institution=institution, role=role)
    if not membership.active or membership.confirmed_at is None:
        membership.active = True
        membership.confirmed_at = timezone.now()
        membership.save(update_fields=["active", "confirmed_at"])
        _audit(by=None, action=AccessEvent.Action.MEMBERSHIP_GRANT, membership=membership, ip=None, note="operator")
    return membership
