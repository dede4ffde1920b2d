"""The heartbeat of a running import job: a small file next to the uploaded one, rewritten with the progress after
every chunk. Its modification time says when the job was last alive and its content what it had done, and both
cross process boundaries whatever the database and the cache are: a runner process of the embedded mode (whose
cache is its own memory) or a Celery worker, and SQLite, whose writer lock would hold back an update of the job
row during the import's transaction. It is deleted with the uploaded file, when the job ends."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from django.conf import settings


def heartbeat_path(job) -> Path | None:
    if not job.file:
        return None
    return Path(f"{job.file.path}.progress")


def heartbeat_write(job, *, phase: str, done: int, total: int) -> None:
    path = heartbeat_path(job)
    if path is None:
        return
    partial = path.with_name(f"{path.name}.{os.getpid()}")
    partial.write_text(json.dumps({"phase": phase, "done": done, "total": max(total, done)}))
    os.replace(partial, path)  # readers never see half a file


def heartbeat_read(job) -> tuple[dict | None, float | None]:
    """The last progress written and the time it was written (seconds since the epoch), or (None, None)."""
    path = heartbeat_path(job)
    if path is None:
        return None, None
    try:
        return json.loads(path.read_text()), path.stat().st_mtime
    except (OSError, ValueError):
        return None, None


def heartbeat_delete(job) -> None:
    path = heartbeat_path(job)
    if path is not None:
        path.unlink(missing_ok=True)


def pause_for_fault_tests(phase: str) -> None:
    """Off unless settings.TEST_IMPORT_PAUSE_FILE names a file that exists (never in production, see settings).
    The fault test runs an import in another process, which it kills: at the first heartbeat of the phase the
    file names ("writing": a chunk written inside the import's transaction, nothing committed) this writes
    ``<file>.reached`` and waits while ``<file>`` exists."""
    hold = getattr(settings, "TEST_IMPORT_PAUSE_FILE", "")
    if not hold or not os.path.exists(hold):
        return
    with open(hold) as wanted:
        if wanted.read().strip() != phase:
            return
    with open(f"{hold}.reached", "w") as marker:
        marker.write(str(os.getpid()))
    deadline = time.monotonic() + 120
    while os.path.exists(hold) and time.monotonic() < deadline:
        time.sleep(0.05)
