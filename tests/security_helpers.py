"""Small helpers shared by the security tests: real logins through the login form, a Spanish catalogue built
from this area's translations, and table checksums."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from .cast import PASSWORD

LOGIN_URL = "/accounts/login/"
PARTS_DIR = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "parts"
_PO_HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: es\\n"\n\n'


def login(client: Client, username: str, password: str = PASSWORD, *, ip: str = "10.0.0.1", follow=False):
    """Post the real login form, from a given address, as a browser would."""
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=ip, follow=follow
    )


def compile_spanish_catalog(target: Path) -> Path:
    """Compile every translation fragment in locale/es/LC_MESSAGES/parts (and django.po, when the lead has
    merged them) into ``target``/es/LC_MESSAGES/django.mo, so a test can read the Spanish pages."""
    if shutil.which("msgfmt") is None:  # pragma: no cover - gettext is installed in CI (Makefile compilemessages)
        raise RuntimeError("msgfmt (gettext) is needed to compile the Spanish catalogue")
    out_dir = target / "es" / "LC_MESSAGES"
    out_dir.mkdir(parents=True, exist_ok=True)
    po = out_dir / "django.po"
    sources = sorted(PARTS_DIR.glob("*.po"))
    merged = _PO_HEADER + "\n".join(p.read_text(encoding="utf-8") for p in sources)
    po.write_text(merged, encoding="utf-8")
    # msguniq tolerates the same msgid in two fragments (first wins), which the lead's concatenation also does.
    uniq = out_dir / "uniq.po"
    subprocess.run(["msguniq", "--use-first", "-o", str(uniq), str(po)], check=True)  # noqa: S603, S607
    subprocess.run(["msgfmt", "-o", str(out_dir / "django.mo"), str(uniq)], check=True)  # noqa: S603, S607
    return target


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
