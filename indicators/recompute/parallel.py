"""The parallel part of a full rebuild on PostgreSQL: jobs shared by several database connections, each in
its own transaction, reading the records as of one exported snapshot."""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from .sql import _q

logger = logging.getLogger(__name__)


def _tune_build_transaction(*, snapshot: bool = False) -> None:
    """PostgreSQL settings of a build transaction (SET LOCAL: they end with it). ``snapshot``: read every table
    as of one moment (only possible as the first statement of the outermost transaction)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if snapshot:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        # Room for the hash aggregates of the bases, so they do not spill to disk (this transaction only).
        cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.INDICATORS_WORK_MEM])
        # JIT compiling these long one-off statements costs seconds and gains less than it costs.
        cursor.execute("SELECT set_config('jit', 'off', true)")


def _in_parallel(jobs, connections: int, *, first: Callable[[], int] | None = None, snapshot: str = "") -> int:
    """Run ``jobs`` ((cost, callable) pairs, largest first) over ``connections`` database connections at once:
    this thread's and ``connections - 1`` threads' own, each taking the next job until none is left, and each
    writing its share in one transaction (this thread's is the caller's, if any). ``first`` runs in this thread
    before it takes jobs (a job that needs this session's temporary tables). ``snapshot``: a snapshot exported by
    the caller's open transaction, which the other connections' transactions then read as of. Returns the rows
    written."""
    queue = deque(jobs)
    if snapshot and not re.fullmatch(r"[0-9A-F-]+", snapshot):
        raise ValueError("Not a PostgreSQL snapshot identifier")

    def work(own: Callable[[], int] | None = None) -> int:
        rows = own() if own is not None else 0
        while True:
            try:
                _, job = queue.popleft()  # deque.popleft is atomic: each job runs once
            except IndexError:
                return rows
            rows += job()

    def in_thread() -> int:
        try:
            connection.ensure_connection()
        except DatabaseError:
            # No connection to spare (max_connections reached): the others do this one's share.
            logger.warning("A recompute connection could not be opened; the build goes on with fewer", exc_info=True)
            connection.close()
            return 0
        try:
            with transaction.atomic():
                if snapshot:
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                        cursor.execute(f"SET TRANSACTION SNAPSHOT {_q(snapshot)}")
                _tune_build_transaction()
                return work()
        except BaseException:
            queue.clear()  # the others stop after their current statement
            raise
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=connections - 1, thread_name_prefix="recompute") as pool:
        helpers = [pool.submit(in_thread) for _ in range(connections - 1)]
        try:
            with transaction.atomic():
                _tune_build_transaction()
                rows = work(first)
        except BaseException:
            queue.clear()
            raise
        return rows + sum(helper.result() for helper in helpers)
