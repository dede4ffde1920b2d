"""Brute-force protection: two limits on failed logins, counted by django-axes' database handler.

django-axes 8 compares every lockout parameter set against ONE failure limit (``AXES_FAILURE_LIMIT``), so it
cannot say "5 failures for one account from one address, or 20 for one account from anywhere". With only the
pair ``(username, address)`` one attacker could try 5 passwords from each of many addresses; with ``username``
alone under a limit of 5, anyone could lock a colleague out by typing their login five times. This handler
keeps axes' storage and its middleware, backend and signals, and only changes how failures are counted:

- the pair (username, address) reaches ``AXES_FAILURE_LIMIT`` (default 5): that account is locked *from that
  address*; the same person elsewhere, and every other user behind the same office address, still log in;
- the account reaches ``CONATT_AXES_USERNAME_FAILURE_LIMIT`` (default 20) failures from any addresses within
  the cool-off: the account is locked from everywhere until the cool-off ends.

Only attempts newer than ``AXES_COOLOFF_TIME`` count, so both locks end by themselves after the cool-off.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


def _failures(**filters) -> int:
    return AccessAttempt.objects.filter(**filters).aggregate(total=Sum("failures_since_start"))["total"] or 0


class PairAndAccountLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with a per-pair limit and a separate, higher per-account limit."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        recent = {"attempt_time__gte": get_cool_off_threshold(request)}
        pair = _failures(username=username, ip_address=request.axes_ip_address, **recent)
        if username is None:
            return pair
        account = _failures(username=username, **recent)
        if account >= settings.CONATT_AXES_USERNAME_FAILURE_LIMIT:
            # Axes locks when the returned count reaches AXES_FAILURE_LIMIT: report the account lock as such.
            return max(pair, get_failure_limit(request, credentials))
        return pair


def username_for_axes(request, credentials: dict | None = None) -> str | None:
    """The username axes records and counts (``AXES_USERNAME_CALLABLE``): without NUL bytes and cut to the
    longest username the portal allows, so a hostile 1 MB or NUL-laden login cannot break axes' varchar(255)
    column (PostgreSQL would answer 500). Real usernames are at most 150 characters, so none is conflated."""
    field = getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")  # axes' default when unset
    raw = (credentials or {}).get(field) if credentials else None
    if raw is None and request is not None:
        raw = request.POST.get(field)
    if raw is None:
        return None
    return str(raw).replace("\x00", "")[:150]
