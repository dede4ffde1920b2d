"""Seeding: generate chunks and write them through the shared bulk writer (records/bulk.py). Small loads commit
chunk by chunk; a large load on PostgreSQL is one transaction with the indexes dropped and rebuilt, and the
generation of chunk k+1 overlapped with the COPY of chunk k."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from django.db import connection, transaction
from django.db.models import Model

from .. import bulk
from ..facts import M2M_FIELDS
from ..models import (
    Application,
    ApplicationEvent,
    ApplicationExploitationCountry,
    ApplicationNationality,
    Decision,
    Identity,
    Person,
)
from .generator import Generator
from .reference import load_reference
from .rows import (
    APPLICATION_COLUMNS,
    COUNTRY_COLUMNS,
    DECISION_COLUMNS,
    EVENT_COLUMNS,
    IDENTITY_COLUMNS,
    PERSON_COLUMNS,
    Chunk,
    m2m_columns,
    m2m_field,
)

Progress = Callable[[dict], None] | None

# Above this many applications (and when the load at least doubles the table), PostgreSQL loads run in one
# transaction with the target tables' secondary indexes and foreign keys dropped and rebuilt at the end
# (bulk.IndexesDropped).
BULK_THRESHOLD = 50_000


def _through(name: str) -> type[Model]:
    through = m2m_field(name).remote_field.through
    assert through is not None, name  # noqa: S101 - Django creates the link model of every many-to-many
    return through


class ChunkWriter:
    """Writes a chunk's tables in an order that satisfies their foreign keys, each in one bulk insert (COPY on
    PostgreSQL: an order of magnitude faster than INSERTs for a million applications)."""

    def __init__(self) -> None:
        self.targets: list[tuple[str, type[Model], tuple[str, ...]]] = [
            ("people", Person, PERSON_COLUMNS),
            ("identities", Identity, IDENTITY_COLUMNS),
            ("applications", Application, APPLICATION_COLUMNS),
            ("nationalities", ApplicationNationality, COUNTRY_COLUMNS),
            ("exploitation_countries", ApplicationExploitationCountry, COUNTRY_COLUMNS),
            ("decisions", Decision, DECISION_COLUMNS),
            ("events", ApplicationEvent, EVENT_COLUMNS),
        ]
        self.links = [(name, _through(name), m2m_columns(name)) for name in M2M_FIELDS]

    def write(self, chunk: Chunk) -> None:
        for attribute, model, columns in self.targets:
            rows = getattr(chunk, attribute)
            if rows:
                bulk.insert_rows(model, columns, rows)
        for name, through, link_columns in self.links:
            if chunk.m2m[name]:
                bulk.insert_rows(through, link_columns, chunk.m2m[name])


def _bulk_tables() -> list[str]:
    tables = [m._meta.db_table for m in (Person, Identity, Application, ApplicationNationality)]
    tables += [m._meta.db_table for m in (ApplicationExploitationCountry, Decision, ApplicationEvent)]
    tables += [_through(name)._meta.db_table for name in M2M_FIELDS]
    return tables


class _Abort(Exception):
    pass


def _write_all(*, chunks: queue.Queue, started: queue.Queue, failure: list, total: int, totals: dict, progress) -> None:
    """The writer thread of a large load: drops the indexes, reserves every id in one block per table, COPYs the
    chunks as they come, rebuilds the indexes; all in one transaction on its own connection."""
    try:
        with transaction.atomic():
            dropped = bulk.IndexesDropped(_bulk_tables())
            dropped.drop()
            per_application = ((Application, 1), (Person, 1), (Decision, 2))
            started.put({m: bulk.reserve_block(m, k * total).start for m, k in per_application})
            writer = ChunkWriter()
            while (chunk := chunks.get()) is not None:
                if chunk is _Abort:
                    raise _Abort
                writer.write(chunk)
            if progress:
                progress({**totals, "stage": "rebuilding indexes"})
            dropped.restore()
    except BaseException as error:  # handed to the generating thread, which re-raises it
        failure.append(error)
        started.put(None)
        if not isinstance(error, _Abort):
            while chunks.get() is not None:  # unblock the producer until it notices and stops
                pass
    finally:
        connection.close()


def _seed_bulk(*, sizes: list[int], generator: Generator, totals: dict, progress: Progress) -> None:
    """The large PostgreSQL load: this thread generates chunk k+1 while a writer thread (with its own connection
    and the one transaction) COPYs chunk k, so Python's work and the database's overlap. A failure on either
    side rolls the whole load back (indexes included)."""
    chunks: queue.Queue = queue.Queue(maxsize=2)
    started: queue.Queue = queue.Queue()
    failure: list[BaseException] = []
    thread = threading.Thread(
        target=_write_all,
        kwargs={
            "chunks": chunks,
            "started": started,
            "failure": failure,
            "total": sum(sizes),
            "totals": totals,
            "progress": progress,
        },
        name="seed_demo-writer",
    )
    thread.start()
    first = started.get()
    try:
        if first is None:
            raise failure[0]
        offset = 0
        for n in sizes:
            app_ids = range(first[Application] + offset, first[Application] + offset + n)
            person_ids = range(first[Person] + offset, first[Person] + offset + n)
            decision_ids = range(first[Decision] + 2 * offset, first[Decision] + 2 * offset + 2 * n)
            chunk = generator.chunk(application_ids=app_ids, person_ids=person_ids, decision_ids=decision_ids)
            offset += n
            if failure:
                raise failure[0]
            chunks.put(chunk)
            _count(totals, chunk)
            if progress:
                progress(totals)
        chunks.put(None)
    except BaseException:
        chunks.put(_Abort if not failure else None)
        thread.join()
        raise
    thread.join()
    if failure:
        raise failure[0]


def _count(totals: dict, chunk: Chunk) -> None:
    totals["applications"] += len(chunk.applications)
    totals["people"] += len(chunk.people)
    totals["decisions"] += len(chunk.decisions)
    totals["rows"] += chunk.row_count()


def seed(*, applications: int, seed: int = 1, chunk_size: int = 20_000, progress: Progress = None) -> dict:
    """Create ``applications`` synthetic applications (with their people, identities, facts, decisions and
    workflow events) in chunks of ``chunk_size``. Small loads commit chunk by chunk; a large load on PostgreSQL
    is one transaction with indexes rebuilt at the end and generation overlapped with COPY (see BULK_THRESHOLD).
    Returns row counts."""
    generator = Generator(seed=seed, reference=load_reference())
    postgres = connection.vendor == "postgresql"
    totals = {"applications": 0, "people": 0, "decisions": 0, "rows": 0, "bulk": False}
    sizes = [min(chunk_size, applications - start) for start in range(0, applications, chunk_size)]
    if postgres and applications >= BULK_THRESHOLD and applications >= Application.objects.count():
        totals["bulk"] = True
        _seed_bulk(sizes=sizes, generator=generator, totals=totals, progress=progress)
        return totals
    writer, ids = ChunkWriter(), bulk.IdReservations()
    for n in sizes:
        with transaction.atomic():
            app_ids = ids.take(Application, n)
            person_ids = ids.take(Person, n)
            decision_ids = ids.take(Decision, 2 * n)
            chunk = generator.chunk(application_ids=app_ids, person_ids=person_ids, decision_ids=decision_ids)
            writer.write(chunk)
        _count(totals, chunk)
        if progress:
            progress(totals)
    return totals
