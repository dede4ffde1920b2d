"""Reads of the accounts area for the user who asks: their own second-factor devices and API tokens.

Who may see or change another user's account is decided in ``accounts.access``; these reads never take a
second user, so they cannot reach anyone else's devices or tokens."""

from __future__ import annotations

from django.db.models import QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import ApiToken, User


def two_factor_enrolled(*, user: User) -> bool:
    """Whether ``user`` has confirmed an authenticator (the login then asks for its code)."""
    return confirmed_devices(user=user).exists()


def confirmed_devices(*, user: User) -> QuerySet[TOTPDevice]:
    """The authenticators ``user`` enrolled and confirmed with a code."""
    return TOTPDevice.objects.filter(user=user, confirmed=True)


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """The user's own API tokens, newest first as the model orders them (hashes only; a key is never stored)."""
    return ApiToken.objects.filter(user=user)
