"""The pseudonymous person key: the same person referred by two institutions is recognised without either
seeing the other's data. Kept in its own small module because services, the import and seed_demo all use it."""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


def normalise_document(document_type: str, document_number: str) -> str:
    """Type and number, upper-cased, with spaces, dashes, dots and other separators removed, so that
    ``1-0234-0567`` and ``102340567`` are the same national identity card."""
    number = _NOT_ALNUM.sub("", (document_number or "").upper())
    return f"{(document_type or '').strip().lower()}:{number}"


def person_key(document_type: str, document_number: str, *, secret: str | None = None) -> str:
    """HMAC-SHA256 (hex) of the normalised document under ``settings.PERSON_KEY_SECRET``; empty when there is
    no usable document (no number, or the type says there is none), so undocumented people never collide."""
    if not document_number or document_type in ("", "none"):
        return ""
    normalised = normalise_document(document_type, document_number)
    if normalised.endswith(":"):
        return ""
    key = (secret or settings.PERSON_KEY_SECRET).encode()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()
