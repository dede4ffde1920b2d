"""Set-based writes: reserve primary keys in one statement, then insert rows without building model instances
(PostgreSQL COPY; a plain multi-row INSERT elsewhere). Knowing the keys up front lets an import write people,
identities, applications, their facts and their history rows in a handful of statements per chunk."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import cast

from django.db import connection
from django.db.models import Model

CHUNK = 5000


def _table(model: type[Model]) -> str:
    return model._meta.db_table


def _pk_column(model: type[Model]) -> str:
    return cast(str, model._meta.pk.column)  # a concrete field's column is never None


def reserve_ids(model: type[Model], count: int) -> list[int]:
    """``count`` fresh primary keys for ``model``, safe against concurrent writers."""
    if count <= 0:
        return []
    table, pk = _table(model), _pk_column(model)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk, count]
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the import's transaction holds the write lock (transaction_mode IMMEDIATE), so max()+1 is safe;
        # sqlite_sequence keeps AUTOINCREMENT from handing out a deleted row's key again.
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX({connection.ops.quote_name(pk)}), 0) FROM {quoted}")  # noqa: S608
        top = cursor.fetchone()[0]
        try:
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            top = max(top, row[0] if row else 0)
        except Exception:  # noqa: BLE001,S110  (no AUTOINCREMENT table yet)
            pass
        # Callers insert the reserved rows before reserving again for the same table.
        return list(range(top + 1, top + 1 + count))


def columns_of(model: type[Model]) -> list[tuple[str, str]]:
    """(attname, column) of every concrete field."""
    return [(f.attname, cast(str, f.column)) for f in model._meta.concrete_fields]  # concrete: a column each


def insert_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``, column names as in the table)."""
    table = _table(model)
    quote = connection.ops.quote_name
    column_sql = ", ".join(quote(c) for c in columns)
    n = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} ({column_sql}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            return n
        adapt = connection.ops.adapt_datetimefield_value
        batch: list = []
        sql = f"INSERT INTO {quote(table)} ({column_sql}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
        for row in rows:
            batch.append(
                tuple(
                    adapt(v)
                    if isinstance(v, datetime.datetime)
                    else (v.isoformat() if isinstance(v, datetime.date) else v)
                    for v in row
                )
            )
            if len(batch) >= CHUNK:
                cursor.executemany(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            n += len(batch)
    return n
