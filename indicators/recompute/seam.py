"""The recompute's one test seam: the moment inside a build's last transaction when the new cells are written
(and the outbox emptied) but nothing is committed yet. Production code calls ``before_commit()`` there and
nothing else; it does nothing unless a test asked for it, in one of two ways:

* a test in this process sets ``hook`` (``monkeypatch.setattr(seam, "hook", fn)``): ``fn`` runs at that moment
  (raise to fail the build, block to hold it while another recompute tries the lock);
* a fault test that runs the recompute in another process (a Celery worker) sets
  ``settings.TEST_RECOMPUTE_PAUSE_FILE`` (env ``CONATT_TEST_RECOMPUTE_PAUSE_FILE``, forced empty in production)
  to a file that exists: the build writes ``<file>.reached`` and waits while ``<file>`` exists (two minutes at
  most), so the test can kill the worker or Redis mid-build (``tests/fault_services.RecomputePause``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from django.conf import settings

hook: Callable[[], None] | None = None


def before_commit() -> None:
    if hook is not None:
        hook()
        return
    hold = settings.TEST_RECOMPUTE_PAUSE_FILE
    if not hold or not os.path.exists(hold):
        return
    with open(f"{hold}.reached", "w") as marker:
        marker.write(str(os.getpid()))
    deadline = time.monotonic() + 120
    while os.path.exists(hold) and time.monotonic() < deadline:
        time.sleep(0.05)
