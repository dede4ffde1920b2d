"""Other processes that share the test's database: a real gunicorn (with a small reverse proxy in front of it) and
any other subprocess of the portal (an import runner). Each helper stops only the process it started, by its pid.

A test that uses them must be transactional (``@pytest.mark.django_db(transaction=True, serialized_rollback=True)``):
the other process sees committed rows only.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection

from .fault_services import free_port, wait_for

# Hop-by-hop headers are the connection's own, never forwarded (RFC 9110, 7.6.1).
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class SharedDatabase:
    """The test's database as another process sees it. On PostgreSQL it is the test database itself. On SQLite the
    test database lives in this process's memory, so ``export()`` copies it into a file for the other process
    (SQLite's online backup) and ``load()`` copies that file back over the test's database once the other process
    has stopped, so the test reads what it wrote through the ORM, as on PostgreSQL."""

    def __init__(self, directory: Path):
        self.file = Path(directory) / "shared.sqlite3"

    @property
    def sqlite(self) -> bool:
        return connection.vendor == "sqlite"

    @property
    def url(self) -> str:
        if self.sqlite:
            return f"sqlite:///{self.file}"
        db = connection.settings_dict
        return (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
            f"{db['NAME']}"
        )

    def export(self) -> SharedDatabase:
        if self.sqlite:
            connection.ensure_connection()
            self.file.unlink(missing_ok=True)
            target = sqlite3.connect(self.file)
            try:
                connection.connection.backup(target)
            finally:
                target.close()
        return self

    def load(self) -> None:
        if self.sqlite:
            source = sqlite3.connect(self.file)
            try:
                source.backup(connection.connection)
            finally:
                source.close()

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a portal process on this database (test settings, no broker: embedded mode)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST") and k != "REDIS_URL"}
        env.update(CONATT_ENV="test", DJANGO_SETTINGS_MODULE="conatt_portal.settings", DATABASE_URL=self.url)
        env.update(extra)
        return env


class Gunicorn:
    """A real gunicorn serving the portal on 127.0.0.1, on the shared database, with ``env`` added."""

    def __init__(self, database: SharedDatabase, *, env: dict[str, str] | None = None, log: Path | None = None):
        self.database = database
        self.extra_env = env or {}
        self.log = log
        self.port = free_port(0)
        self.process: subprocess.Popen | None = None

    def start(self) -> Gunicorn:
        output = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115 - closed with process
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "conatt_portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--timeout",
                "120",
            ],
            cwd=str(settings.BASE_DIR),
            env=self.database.env(**self.extra_env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        if not wait_for(self._answers, timeout=60):
            self.stop()
            raise RuntimeError("gunicorn did not start")
        return self

    def _answers(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGKILL)
                self.process.wait(timeout=15)
        self.process = None

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class ForwardingProxy:
    """A reverse proxy on 127.0.0.1 in front of ``upstream_port``, as the README's TLS proxy would be: it forwards
    each request and appends the address it received it from to ``X-Forwarded-For`` (nginx's
    ``$proxy_add_x_forwarded_for``: what the client sent is kept, on the left, which is what an attacker
    forges)."""

    def __init__(self, upstream_port: int):
        upstream = upstream_port

        class Handler(BaseHTTPRequestHandler):
            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                headers.pop("X-Forwarded-For", None)
                sent = self.headers.get_all("X-Forwarded-For") or []
                headers["X-Forwarded-For"] = ", ".join([*sent, self.client_address[0]])
                conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=60)
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                content = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in _HOP_BY_HOP | {"content-length"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                conn.close()

            do_GET = do_POST = _forward  # noqa: N815 - the names http.server calls

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ForwardingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def login_over_http(
    port: int, username: str, password: str, *, source: str, forwarded_for: str | None = None
) -> http.client.HTTPResponse:
    """The real login form over a real connection from the loopback address ``source`` (Linux routes all of
    127.0.0.0/8 to the loopback interface, so each test client can have an address of its own), optionally
    sending a forged ``X-Forwarded-For``. Returns the answer to the POST (302 logged in, 200 refused, 429 locked)."""
    extra = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}

    def connect() -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))

    page = connect()
    page.request("GET", "/accounts/login/", headers=extra)
    answer = page.getresponse()
    html = answer.read().decode()
    cookies = [c.split(";", 1)[0] for name, c in answer.getheaders() if name.lower() == "set-cookie"]
    page.close()
    token = _CSRF_INPUT.search(html).group(1)
    form = urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password})
    post = connect()
    post.request(
        "POST",
        "/accounts/login/",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": "; ".join(cookies), **extra},
    )
    answer = post.getresponse()
    answer.read()
    post.close()
    return answer
