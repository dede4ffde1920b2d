"""Personal API tokens: create (the secret is returned once), authenticate, revoke.

A key reads ``conatt_<prefix>_<secret>``. The prefix (public, unique) finds the row; the SHA-256 hash of the
whole key is compared in constant time. A plain hash is enough here (no salt, no slow hash) because the
secret is 256 random bits, not a password a person chose: nothing is gained by guessing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ApiToken

KEY_PREFIX = "conatt"
# Updating last_used_at on every request would turn every read into a write; once a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def max_days() -> int:
    return settings.API_TOKEN_MAX_DAYS


@transaction.atomic
def api_token_create(*, user, name: str, days: int) -> tuple[ApiToken, str]:
    """Create a token for ``user`` valid for ``days`` days (1 to API_TOKEN_MAX_DAYS). Returns the row and the
    key; the key is not stored and cannot be shown again."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name, so you can recognise it later.")})
    if not isinstance(days, int) or not 1 <= days <= max_days():
        raise ValidationError(
            {"days": _("A token is valid for 1 to %(max)d days.") % {"max": max_days()}},
        )
    prefix = secrets.token_hex(6)
    while ApiToken.objects.filter(prefix=prefix).exists():  # pragma: no cover (48 random bits)
        prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=prefix,
        secret_hash=_hash(key),
        expires_at=timezone.now() + timedelta(days=days),
    )
    return token, key


def api_token_revoke(*, user, token_id) -> ApiToken:
    """Revoke one of ``user``'s own tokens. Another user's token is not found (ApiToken.DoesNotExist)."""
    token = ApiToken.objects.get(pk=token_id, user=user)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(key: str) -> ApiToken | None:
    """The active token that ``key`` belongs to, or None (unknown, malformed, expired or revoked)."""
    parts = key.split("_", 2)  # the secret itself may hold "_"
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(key)):
        return None
    now = timezone.now()
    if not token.is_active_at(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
