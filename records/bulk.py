"""Set-based writes, shared by the import (records/imports) and the demo seeder (records/demo): reserve primary
keys in one statement, then insert rows without building model instances (PostgreSQL COPY; parameterised
multi-row INSERTs elsewhere). Knowing the keys up front lets a writer produce people, identities, applications,
their facts and their history rows in a handful of statements per chunk. For loads that dwarf the table,
``IndexesDropped`` takes the secondary indexes and constraints away while the rows go in and rebuilds them once."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from django.db import connection
from django.db.models import BooleanField, DateTimeField, Field, Model
from django.db.models.expressions import RawSQL

CHUNK = 5000


def _table(model: type[Model]) -> str:
    return model._meta.db_table


def _pk_column(model: type[Model]) -> str:
    return cast(str, model._meta.pk.column)  # a concrete field's column is never None


# --- Primary keys ---------------------------------------------------------------------------------------------


class IdReservations:
    """Hands out fresh primary keys, safe against concurrent writers. On SQLite the keys come from the table's
    largest key, so this object remembers what it handed out: a caller that reserves more keys than it inserts (the
    seeder reserves one person per application, and fewer people are new) never gets the same key twice."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def take(self, model: type[Model], count: int) -> list[int]:
        """``count`` fresh primary keys for ``model``."""
        if count <= 0:
            return []
        table, pk = _table(model), _pk_column(model)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk, count]
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: the writer's transaction holds the write lock (transaction_mode IMMEDIATE), so max()+1 is
            # safe; sqlite_sequence keeps AUTOINCREMENT from handing out a deleted row's key again.
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT COALESCE(MAX({connection.ops.quote_name(pk)}), 0) FROM {quoted}")  # noqa: S608
            top = max(cursor.fetchone()[0], self._last.get(table, 0))
            try:
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                top = max(top, row[0] if row else 0)
            except Exception:  # noqa: BLE001,S110  (no AUTOINCREMENT table yet)
                pass
        self._last[table] = top + count
        return list(range(top + 1, top + 1 + count))


def reserve_ids(model: type[Model], count: int) -> list[int]:
    """``count`` fresh primary keys for ``model``. Without an ``IdReservations`` to remember them, callers insert
    the reserved rows before reserving again for the same table."""
    return IdReservations().take(model, count)


def reserve_block(model: type[Model], count: int) -> range:
    """``count`` consecutive keys of ``model``'s PostgreSQL sequence in one statement (one ``setval`` instead of a
    ``nextval`` per key). Consecutive only if nobody else draws from the sequence meanwhile: call it while holding
    the table's exclusive lock (as a load with ``IndexesDropped`` does)."""
    table, pk = _table(model), _pk_column(model)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, %s), nextval(pg_get_serial_sequence(%s, %s)) + %s - 1)",
            [table, pk, table, pk, count],
        )
        last = cursor.fetchone()[0]
    return range(last - count + 1, last + 1)


# --- Reading many keys ----------------------------------------------------------------------------------------


def among(model: type[Model], field_name: str, values: Sequence[int] | Sequence[str]) -> RawSQL:
    """The condition ``<field> IN values`` for ``filter()``, with the list sent as one JSON parameter instead of one
    placeholder per value: with 2,000 values Django prepares every parameter and psycopg splits the statement at
    each placeholder in Python (and dumps a list parameter element by element), about 25 ms of client CPU per
    query against 2 ms this way. On PostgreSQL the array is built once (an InitPlan) and compared with ``= ANY``,
    which the planner answers with an index scan whatever its statistics say (an ``IN (SELECT ...)`` of the JSON
    elements was planned as a sequential scan of the whole table when the statistics were stale)."""
    quote = connection.ops.quote_name
    # The model's own table and column names, quoted; the values are a parameter.
    field = model._meta.get_field(field_name)
    assert isinstance(field, Field) and field.column, field_name  # noqa: S101 - a concrete column, not a relation
    column = f"{quote(_table(model))}.{quote(field.column)}"
    data = json.dumps(list(values))
    if connection.vendor == "postgresql":
        cast = "::bigint" if values and isinstance(values[0], int) else ""
        sql = f"{column} = ANY(ARRAY(SELECT jsonb_array_elements_text(%s::jsonb){cast}))"
    else:
        sql = f"{column} IN (SELECT value FROM json_each(%s))"  # noqa: S608
    return RawSQL(sql, [data], output_field=BooleanField())  # noqa: S611


# --- Writing rows ---------------------------------------------------------------------------------------------


def columns_of(model: type[Model]) -> list[tuple[str, str]]:
    """(attname, column) of every concrete field."""
    return [(f.attname, cast(str, f.column)) for f in model._meta.concrete_fields]  # concrete: a column each


def _batches(rows: Iterable[Sequence], size: int = CHUNK) -> Iterable[list[Sequence]]:
    batch: list[Sequence] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _sqlite_adapters(model: type[Model], columns: Sequence[str]) -> list[Callable[[Any], Any]]:
    """Per column, what turns a value into what the database stores: a timestamp, whether a datetime or an ISO
    8601 string (the seeder formats them, cheaper than building datetimes), goes through its field as the ORM
    would write it (UTC, without offset); a date as ISO text; anything else as it is."""
    adapt = connection.ops.adapt_datetimefield_value
    by_column = {f.column: f for f in model._meta.concrete_fields}

    def timestamp(field: Field) -> Callable[[Any], Any]:
        def convert(v: Any) -> Any:
            if isinstance(v, str):
                return field.get_db_prep_value(v, connection, prepared=False)
            return adapt(v) if isinstance(v, datetime.datetime) else v

        return convert

    def other(v: Any) -> Any:
        if isinstance(v, datetime.datetime):
            return adapt(v)
        return v.isoformat() if isinstance(v, datetime.date) else v

    return [timestamp(by_column[c]) if isinstance(by_column.get(c), DateTimeField) else other for c in columns]


def insert_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``, column names as in the table); returns how many. Values
    are written as given: no ``save()``, no auto_now stamps (the seeder's past timestamps stay in the past)."""
    quote = connection.ops.quote_name
    column_sql = ", ".join(quote(c) for c in columns)
    n = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # psycopg's own row formatting (its C implementation, psycopg[binary]) costs half the client CPU of
            # formatting COPY text in Python, which the seeder used to do: 0.21 against 0.41 s per 20,000 demo
            # applications. A timestamp may be an ISO 8601 string; PostgreSQL parses it.
            with cursor.cursor.copy(f"COPY {quote(_table(model))} ({column_sql}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            return n
        adapters = _sqlite_adapters(model, columns)
        sql = f"INSERT INTO {quote(_table(model))} ({column_sql}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
        for batch in _batches(rows):
            cursor.executemany(sql, [tuple(a(v) for a, v in zip(adapters, row, strict=True)) for row in batch])
            n += len(batch)
    return n


# --- Large loads ----------------------------------------------------------------------------------------------


class IndexesDropped:
    """Drop the secondary indexes, unique and foreign-key constraints of ``tables`` (PostgreSQL); ``restore``
    recreates them from the definitions PostgreSQL itself reported (pg_get_indexdef / pg_get_constraintdef).
    Building an index once is far cheaper than maintaining it row by row, and one validation query per foreign key
    replaces a trigger call per row. DDL is transactional in PostgreSQL: run both inside the load's transaction and
    a failed load leaves every index in place."""

    def __init__(self, tables: list[str]):
        self.tables = tables
        self.constraints: list[tuple[str, str, str]] = []
        self.indexes: list[str] = []

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
                "WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u') ORDER BY contype DESC",
                [self.tables],
            )
            # Foreign keys ('f') come after unique constraints ('u') in the DESC order: drop them first, restore
            # them last.
            rows = cursor.fetchall()
            self.constraints = [(t, name, ddl) for t, name, ddl, _ in rows]
            for table, name, _ in self.constraints:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            cursor.execute(
                "SELECT pg_get_indexdef(indexrelid), indexrelid::regclass::text FROM pg_index "
                "WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary",
                [self.tables],
            )
            found = cursor.fetchall()
            self.indexes = [ddl for ddl, _ in found]
            for _, name in found:
                cursor.execute(f"DROP INDEX {name}")

    def restore(self) -> None:
        with connection.cursor() as cursor:
            for ddl in self.indexes:
                cursor.execute(ddl)
            for table, name, ddl in reversed(self.constraints):
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {ddl}')
            for table in self.tables:
                cursor.execute(f"ANALYZE {table}")
