"""Long jobs outside the request in the embedded mode (no broker): the one mechanism that large imports
(``records.imports.runner``) and estimation runs (``estimation.services``) share.

With a broker (``IMPORT_RUNNER = "celery"``) a long job is a Celery task. Without one (``"process"``, the
embedded default) the web process starts a runner process of its own on commit, ``manage.py <command> <id>``,
in a session of its own so that it outlives the web worker that started it (a gunicorn worker killed at its
timeout, say); the job row records it (``process:<pid>``) and the page polls the row's progress. A runner that
dies leaves its job running for ever: each job kind writes a heartbeat as it goes, and a sweep marks failed every
running job silent for ``IMPORT_HEARTBEAT_MINUTES`` (``heartbeat_limit``). In the embedded mode no beat runs the
sweep, so the job pages and the start of a new job do.
"""

from __future__ import annotations

import datetime
import subprocess
import sys

from django.conf import settings
from django.utils import timezone

# Runner processes this web process started, polled so that finished ones are reaped (no zombies).
_children: list[subprocess.Popen] = []


def process_mode() -> bool:
    """True in the embedded mode: long jobs run in runner processes, not in a Celery worker."""
    return settings.IMPORT_RUNNER == "process"


def start_runner_process(command: str, object_id: int) -> str:
    """Start ``manage.py <command> <object_id>`` detached from the web worker; returns the task id to record on
    the job row (``process:<pid>``)."""
    _children[:] = [child for child in _children if child.poll() is None]
    process = subprocess.Popen(  # noqa: S603 - our interpreter and manage.py, a fixed command and a numeric id
        [sys.executable, str(settings.BASE_DIR / "manage.py"), command, str(int(object_id))],
        cwd=str(settings.BASE_DIR),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # not killed with the web worker's process group
    )
    _children.append(process)
    return f"process:{process.pid}"


def heartbeat_limit(now: datetime.datetime | None = None) -> datetime.datetime:
    """A running job whose last sign of life is older than this is taken for dead (its runner killed)."""
    return (now or timezone.now()) - datetime.timedelta(minutes=settings.IMPORT_HEARTBEAT_MINUTES)
