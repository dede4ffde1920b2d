"""Real services for fault tests, started and stopped by the test itself.

``SpareRedis`` runs a SEPARATE redis-server on a free port (never the shared one on 6379), without
persistence, so a test can kill it in the middle of a save and start it again. ``CeleryWorker`` runs a real
Celery worker process against a given broker and database, so a test can kill it (SIGKILL, as the OOM killer
would) in the middle of a task. Each helper stops only the process it started, by its own pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings


def free_port(preferred: int = 6391) -> int:
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free port")


def wait_for(condition, timeout: float = 30.0, interval: float = 0.1) -> bool:
    """Poll ``condition`` until it holds (never a fixed sleep standing in for a result)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


class SpareRedis:
    def __init__(self, port: int | None = None):
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not installed")
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> SpareRedis:
        self.process = subprocess.Popen(  # noqa: S603 - fixed program and arguments
            [  # noqa: S607
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for(self.ping, timeout=15):
            self.kill()
            raise RuntimeError(f"redis-server did not start on port {self.port}")
        return self

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown save, connections dropped."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=15)
        self.process = None
        assert wait_for(lambda: not self.ping(), timeout=5)

    def __enter__(self) -> SpareRedis:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill()


_WORKER_SCRIPT = """
import os, sys, django
django.setup()
from conatt_portal.celery import app
# A short visibility timeout so that a message left unacknowledged by a killed worker is delivered again within
# seconds (production keeps the hour of settings.CELERY_BROKER_TRANSPORT_OPTIONS), looked for every second.
app.conf.broker_transport_options = {
    **app.conf.broker_transport_options, "visibility_timeout": 5, "unacked_restore_interval": 1
}
app.conf.task_always_eager = False
hook = os.environ.get("CONATT_TEST_WORKER_HOOK")
if hook:
    exec(hook)
app.worker_main(["worker", "--pool=solo", "--concurrency=1", "--loglevel=WARNING", "--without-gossip",
                 "--without-mingle", "--without-heartbeat", "-n", os.environ["CONATT_TEST_WORKER_NAME"]])
"""


class CeleryWorker:
    """A real worker process on ``broker_url`` (also its cache), reading and writing the test database (which must
    be PostgreSQL: the worker is another process). ``env`` adds environment variables, e.g.
    ``CONATT_TEST_RECOMPUTE_PAUSE_FILE`` (see ``RecomputePause``)."""

    def __init__(self, broker_url: str, *, name: str, hook: str = "", log: Path | None = None, env: dict | None = None):
        self.broker_url = broker_url
        self.name = name
        self.hook = hook
        self.log = log
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None

    def start(self) -> CeleryWorker:
        from django.db import connection

        db = connection.settings_dict
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env.update(
            CONATT_ENV="test",
            DJANGO_SETTINGS_MODULE="conatt_portal.settings",
            REDIS_URL=self.broker_url,
            CELERY_TASK_ALWAYS_EAGER="false",
            DATABASE_URL=(
                f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
                f"{db['NAME']}"
            ),
            CONATT_TEST_WORKER_NAME=f"{self.name}@%h",
            CONATT_TEST_WORKER_HOOK=self.hook,
        )
        env.update(self.extra_env)
        output = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115 - closed with process
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", _WORKER_SCRIPT],
            cwd=str(settings.BASE_DIR),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=15)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def __enter__(self) -> CeleryWorker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class RecomputePause:
    """Holds an indicator build of another process just before its commit (settings.TEST_RECOMPUTE_PAUSE_FILE,
    read by indicators.recompute.seam.before_commit): ``env`` goes to the worker; ``wait_reached()`` polls
    until the build is there; ``release()`` lets it commit."""

    def __init__(self, directory: Path):
        self.hold = Path(directory) / "recompute.hold"
        self.reached = Path(f"{self.hold}.reached")
        self.hold.touch()

    @property
    def env(self) -> dict:
        return {"CONATT_TEST_RECOMPUTE_PAUSE_FILE": str(self.hold)}

    def wait_reached(self, timeout: float = 30) -> bool:
        return wait_for(self.reached.exists, timeout=timeout)

    def release(self) -> None:
        self.hold.unlink(missing_ok=True)
