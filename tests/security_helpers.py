"""Small helpers shared by the security tests: real logins through the login form, and table checksums."""

from __future__ import annotations

import hashlib

from django.db import connection
from django.test import Client
from django.urls import reverse

from .cast import PASSWORD

LOGIN_URL = "/accounts/login/"


def login(client: Client, username: str, password: str = PASSWORD, *, ip: str = "10.0.0.1", follow=False):
    """Post the real login form, from a given address, as a browser would."""
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=ip, follow=follow
    )


def table_checksums(tables: list[str] | None = None, *, using_connection=None) -> dict[str, tuple[int, str]]:
    """Row count and a content checksum of each table (all tables by default), independent of row order."""
    conn = using_connection or connection
    with conn.cursor() as cursor:
        names = tables or sorted(conn.introspection.table_names(cursor))
        result = {}
        for name in names:
            cursor.execute(f"SELECT * FROM {conn.ops.quote_name(name)}")  # noqa: S608 - names from introspection
            rows = sorted(repr(tuple(_normalise(v) for v in row)) for row in cursor.fetchall())
            digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
            result[name] = (len(rows), digest)
    return result


def _normalise(value):
    if isinstance(value, memoryview):
        return bytes(value)
    return value
