"""The catalogue's cache keys. Every key holds the indicator version (``data_as_of``) and the language, so a
recompute or another language is a new key and nothing stale is served; ``page_cache_key`` names a page's
rendered report content by its address and audience, never by the user."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime
from urllib.parse import urlencode

from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .. import selectors
from ..reporting import audience

CACHE_SECONDS = 600


def data_as_of_display() -> str:
    moment = data_as_of()
    if moment is None:
        return _("no indicators computed yet")
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _cache_key(*parts) -> str:
    raw = "|".join(str(p) for p in (*parts, get_language() or "", _version()))
    return "reports:" + hashlib.sha256(raw.encode()).hexdigest()


# data_as_of is read at most once every VERSION_SECONDS per process: every cache key includes it, and a page
# builds several keys. A recompute is therefore seen within a second or two, and never half-applied (the
# selectors read only the current version).
VERSION_SECONDS = 2.0
_version_seen: tuple[float, datetime | None] = (0.0, None)


def data_as_of() -> datetime | None:
    global _version_seen
    now = time.monotonic()
    read_at, moment = _version_seen
    if now - read_at > VERSION_SECONDS:
        moment = selectors.data_as_of()
        _version_seen = (now, moment)
    return moment


def _version() -> str:
    moment = data_as_of()
    return moment.isoformat() if moment else "none"


def page_cache_key(request, page: str) -> str:
    """The key of a page's rendered report content: everything that content depends on (the address, the
    audience, the language, the indicator version) and nothing about the user beyond the audience."""
    exact, k = audience(request.user)
    return _cache_key("page", page, request.path, exact, k, urlencode(sorted(request.GET.lists()), doseq=True))
