"""Login audit. Signals are used here only to write audit rows, which is what Django offers for login events."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .access import client_ip
from .models import AccessEvent


def _ip(request) -> str | None:
    return client_ip(request) if request is not None else None


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    AccessEvent.objects.create(user=user, action=AccessEvent.Action.LOGIN, ip_address=_ip(request))


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        AccessEvent.objects.create(user=user, action=AccessEvent.Action.LOGOUT, ip_address=_ip(request))


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # The attempted username is not stored: people type passwords into the username box.
    AccessEvent.objects.create(action=AccessEvent.Action.LOGIN_FAILED, ip_address=_ip(request))
