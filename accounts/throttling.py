"""API throttling per user (all of a user's requests, whatever the credential) and per token (each token on
its own, so one runaway integration does not use up its owner's other tokens' share). Rates are read at
request time from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], so settings changes (and tests) take effect."""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from . import access
from .models import ApiToken


class _RateFromSettings(SimpleRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) if self.scope else None

    def __init__(self):
        # SimpleRateThrottle reads the rate in __init__; re-read it per instance (one per request).
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)


class PerUserThrottle(_RateFromSettings):
    scope = "user"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class PerTokenThrottle(_RateFromSettings):
    scope = "token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None  # session requests are counted per user only
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class AnonymousThrottle(_RateFromSettings):
    """Unauthenticated requests (the schema is refused to them anyway) counted per address."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def get_ident(self, request):
        # DRF's own reading takes the whole X-Forwarded-For when NUM_PROXIES is unset, so a client rotating that
        # header would get a fresh allowance each time: read the address as the login lockout does.
        return access.client_ip(request) or ""
