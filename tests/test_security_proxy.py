"""The client's address behind the reverse proxy (issue 20, point 1), with a real gunicorn and a real proxy on
loopback: the login lockout and the audit see the client, not the proxy, when PROXY_COUNT says a proxy is there;
and nobody can choose their address by sending X-Forwarded-For, with or without a proxy."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory, override_settings

from accounts import access
from accounts.models import AccessEvent
from accounts.throttling import AnonymousThrottle

from .cast import PASSWORD
from .process_support import ForwardingProxy, Gunicorn, SharedDatabase, login_over_http

WRONG = "not the password at all 0"
PROXY = "127.0.0.1"  # the proxy's address as gunicorn sees it
ATTACKER, COLLEAGUE, OWNER = "127.0.0.2", "127.0.0.3", "127.0.0.4"
TRANSACTIONAL = pytest.mark.django_db(transaction=True, serialized_rollback=True)
# The gunicorn tests start a server and a proxy on free ports of this machine: one xdist worker runs them, one
# after the other (tests/conftest.py).
pytestmark = pytest.mark.xdist_group("processes")


@TRANSACTIONAL
def test_behind_the_proxy_an_attacker_locks_only_their_own_address_and_the_audit_names_the_client(cast, tmp_path):
    """PROXY_COUNT=1, every request through the proxy: an attacker at one client address locks the officer's
    account *at that address* (also when forging X-Forwarded-For, which the proxy keeps on the left); the officer
    and a colleague behind the same proxy, at their own addresses, still log in. Axes and the audit record the
    client addresses, never the proxy's."""
    victim, colleague = cast.officer_a.username, cast.coordinator_b.username
    database = SharedDatabase(tmp_path).export()
    with (
        Gunicorn(database, env={"PROXY_COUNT": "1"}, log=tmp_path / "gunicorn.log") as server,
        ForwardingProxy(server.port) as proxy,
    ):
        answers = [login_over_http(proxy.port, victim, WRONG, source=ATTACKER).status for _ in range(5)]
        assert answers == [200, 200, 200, 200, 429]
        # Forging the header does not give the attacker a fresh address: the proxy's entry is the one read.
        forged = login_over_http(proxy.port, victim, PASSWORD, source=ATTACKER, forwarded_for="198.51.100.77")
        assert forged.status == 429
        assert login_over_http(proxy.port, victim, PASSWORD, source=OWNER).status == 302
        assert login_over_http(proxy.port, colleague, PASSWORD, source=COLLEAGUE).status == 302
    database.load()

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    failed = AccessEvent.objects.filter(action=AccessEvent.Action.LOGIN_FAILED).values_list("ip_address", flat=True)
    assert set(failed) == {ATTACKER}
    logins = AccessEvent.objects.filter(action=AccessEvent.Action.LOGIN)
    logins = dict(logins.values_list("user__username", "ip_address"))
    assert logins == {victim: OWNER, colleague: COLLEAGUE}
    assert not AccessEvent.objects.filter(ip_address=PROXY).exists()


@TRANSACTIONAL
def test_without_a_trusted_proxy_rotating_x_forwarded_for_still_gets_locked(cast, tmp_path):
    """PROXY_COUNT=0 (the default), straight to gunicorn: an attacker sending a new X-Forwarded-For with every
    attempt is still one address and is locked after five failures; the header is recorded nowhere."""
    victim = cast.officer_a.username
    database = SharedDatabase(tmp_path).export()
    with Gunicorn(database, env={"PROXY_COUNT": "0"}, log=tmp_path / "gunicorn.log") as server:
        answers = [
            login_over_http(server.port, victim, WRONG, source=ATTACKER, forwarded_for=f"198.51.100.{n}").status
            for n in range(1, 6)
        ]
        assert answers == [200, 200, 200, 200, 429]
        rotated = login_over_http(server.port, victim, PASSWORD, source=ATTACKER, forwarded_for="203.0.113.99")
        assert rotated.status == 429
        assert login_over_http(server.port, victim, PASSWORD, source=OWNER).status == 302
    database.load()

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    recorded = set(AccessEvent.objects.values_list("ip_address", flat=True))
    assert recorded == {ATTACKER, OWNER}


@pytest.mark.parametrize(
    ("proxies", "forwarded", "remote", "expected"),
    [
        (0, "", "192.0.2.5", "192.0.2.5"),
        (0, "198.51.100.1", "192.0.2.5", "192.0.2.5"),  # no proxy trusted: the header is the client's claim
        (1, "198.51.100.1", "10.0.0.2", "198.51.100.1"),  # the proxy appended the client
        (1, "6.6.6.6, 198.51.100.1", "10.0.0.2", "198.51.100.1"),  # a forged entry on the left is ignored
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.9", "10.0.0.2", "198.51.100.1"),  # two proxies
        (1, "", "10.0.0.2", "10.0.0.2"),  # not through the proxy (a health check on the host)
        (2, "198.51.100.1", "10.0.0.2", "198.51.100.1"),  # a shorter chain: the first address a proxy wrote
        (1, "not-an-address", "10.0.0.2", "10.0.0.2"),  # garbage never reaches an address column
        (1, " 2001:DB8::1 ", "10.0.0.2", "2001:db8::1"),
        (0, "", "", None),
    ],
)
def test_client_ip_reads_the_chain_from_the_right(proxies, forwarded, remote, expected):
    """The one reading of the client's address (axes, the audit, the API's anonymous throttle)."""
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)
    with override_settings(PROXY_COUNT=proxies):
        assert access.client_ip(request) == expected
        assert AnonymousThrottle().get_ident(request) == (expected or "")
