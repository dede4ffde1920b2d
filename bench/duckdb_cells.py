"""Would an in-process analytical engine make the full rebuild's cell passes faster (issue 19, point 5)?
``DATABASE_URL=postgres://.../bench_1m python bench/duckdb_cells.py``

Reads the fact table the last full recompute left (``indicators_applicationfact``: one row per application, its
year and key columns, every single-valued dimension) and computes the same cells twice, with the same statement:
the application counts and their cell-key sums of every single-valued cell set of ``indicators.dimensions``
(one to three dimensions), by year of receipt, in one GROUPING SETS statement:

* ``postgres_seconds``: the statement in PostgreSQL, rows counted, nothing written;
* ``copy_seconds``: the fact rows moved into DuckDB (``COPY ... TO STDOUT`` in CSV, read by DuckDB), the price
  of using it at all, paid on every rebuild;
* ``duckdb_seconds``: the same statement in DuckDB, in this process, on every core it finds;
* ``cells``: the rows each answer has (they must be equal).

The engine's rebuild also writes the cells, the persons' distinct counts and the multi-valued facts' bridge rows;
those are left out of both sides, so the ratio is the best case for DuckDB. Prints one JSON object.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conatt_portal.settings")

import django  # noqa: E402

django.setup()

import duckdb  # noqa: E402
from django.db import connection  # noqa: E402

from indicators import dimensions  # noqa: E402

TABLE = "indicators_applicationfact"


def _columns() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", [TABLE])
        return {row[0] for row in cursor.fetchall()}


def _statement(table: str, sets: list[list[str]]) -> str:
    grouping = ", ".join("(" + ", ".join(s) + ")" for s in sets)
    return (
        f"SELECT COUNT(*) FROM (SELECT COUNT(*) AS n, SUM(record_key) AS k FROM {table} "  # noqa: S608
        f"GROUP BY received_year, GROUPING SETS ({grouping})) q"
    )


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench/duckdb_cells.py reads PostgreSQL's fact table: set DATABASE_URL")
    columns = _columns()
    sets = [
        sorted(s)
        for s in dimensions.CELL_SETS
        if 1 <= len(s) <= 3 and not set(s) & set(dimensions.MULTI_VALUED) and set(s) <= columns
    ]
    used = sorted({d for s in sets for d in s} | {"received_year", "record_key"})
    statement = _statement(TABLE, sets)

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(statement)
        postgres_cells = cursor.fetchone()[0]
    postgres_seconds = time.perf_counter() - started

    started = time.perf_counter()
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        copy_sql = f"COPY (SELECT {', '.join(used)} FROM {TABLE}) TO STDOUT WITH (FORMAT csv, HEADER)"  # noqa: S608
        with cursor.cursor.copy(copy_sql) as copy:
            for data in copy:
                buffer.write(data)
    path = Path("/tmp/duckdb_facts.csv")
    path.write_bytes(buffer.getvalue())
    db = duckdb.connect()
    db.execute("CREATE TABLE facts AS SELECT * FROM read_csv(?, header = true)", [str(path)])
    copy_seconds = time.perf_counter() - started
    rows = db.execute("SELECT COUNT(*) FROM facts").fetchone()[0]

    started = time.perf_counter()
    duckdb_cells = db.execute(_statement("facts", sets)).fetchone()[0]
    duckdb_seconds = time.perf_counter() - started
    path.unlink()
    print(
        json.dumps(
            {
                "facts": rows,
                "cell_sets": len(sets),
                "cells": {"postgres": postgres_cells, "duckdb": duckdb_cells},
                "postgres_seconds": round(postgres_seconds, 2),
                "copy_seconds": round(copy_seconds, 2),
                "duckdb_seconds": round(duckdb_seconds, 2),
                "duckdb_with_copy_over_postgres": round((copy_seconds + duckdb_seconds) / postgres_seconds, 3),
                "duckdb_threads": db.execute("SELECT current_setting('threads')").fetchone()[0],
                "load_average": os.getloadavg(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
