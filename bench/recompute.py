"""Benchmark of the indicator recompute: ``python bench/recompute.py --applications N``.

Needs PostgreSQL (DATABASE_URL). Tops the database up to N applications with ``seed_demo`` (synthetic data of
records.demo), then measures, in one run:

* ``full_seconds``: a full recompute (facts, bridges, a new version of every cell, the swap, dropping the old
  version);
* ``incremental_seconds``: the recompute after one edit (one application's sex changed, marked by id, as the
  records services do), and ``incremental_year_seconds``: the same edit marked by its year only;
* ``floor_seconds``: ONE PostgreSQL statement with GROUPING SETS that computes the same count cells straight
  from the records (nothing written, no distinct persons): the floor no implementation beats by much;
* ``peak_rss_mb`` of this process (the Python side) and PostgreSQL's side: ``work_mem`` and the bytes it
  spilled to temporary files during the run.

Prints one JSON object. The machine is shared: run it once, and report its load average with the figures.
"""

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conatt_portal.settings")

import django  # noqa: E402
from seeding import top_up  # noqa: E402 (bench/seeding.py, beside this script)

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from indicators import dimensions, services  # noqa: E402
from indicators.models import ApplicationFact, IndicatorCell, RecomputeRun  # noqa: E402
from indicators.recompute.sql import Source, Sql  # noqa: E402
from records.models import Application, Code, Status  # noqa: E402
from records.scopes import scopes_disabled  # noqa: E402


def floor_sql(sql: Sql) -> str:
    """The benchmark's floor: ONE statement that computes the same count cells straight from the records
    (facts derived in a CTE, every cell set in GROUPING SETS, no tables written, no distinct persons), from the
    engine's own SQL text (``indicators.recompute.sql``)."""
    fact_select = sql.fact_sql(target="x", scope="1=1", mask_scope="1=1").split(") SELECT ", 1)[1]
    bridges = " UNION ALL ".join(sql.bridge_selects("1=1"))
    parts = []
    groups: dict[tuple[str, ...], list] = {}
    for cell_set in dimensions.CELL_SETS:
        groups.setdefault(tuple(sorted(d for d in cell_set if d in dimensions.MULTI_VALUED)), []).append(cell_set)
    for members in groups.values():
        used = sorted({d for s in members for d in s})
        grouping = ", ".join("(" + ", ".join(f"x.{d}" for d in s) + ")" for s in members)
        rows = sql._rows_sql(Source("f", "v"), used)
        parts.append(
            f"SELECT COUNT(*) AS n, SUM(x.pf) AS p, SUM(x.w) AS w FROM ({rows}) x "  # noqa: S608
            f"GROUP BY x.tk, GROUPING SETS ({grouping})"
        )
    return (
        f"WITH f AS MATERIALIZED (SELECT {fact_select}), v AS MATERIALIZED ({bridges}) "  # noqa: S608
        f"SELECT COUNT(*) FROM ({' UNION ALL '.join(parts)}) q"
    )


def _temp_bytes() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def _timed(fn, label=""):
    started = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - started
    if label:
        print(f"{label}: {elapsed:.2f} s", file=sys.stderr, flush=True)
    return elapsed, result


def _edit_one(*, by_year: bool) -> int:
    """Change the sex of one accredited application of the latest year, marking it as the services do."""
    last = Application.all_objects.filter(status=Status.ACCREDITED).latest("decided_on")
    app = Application.all_objects.filter(status=Status.ACCREDITED, decided_on__year=last.decided_on.year).order_by(
        "id"
    )[7]
    other = Code.objects.filter(list="sex").exclude(pk=app.sex_id).order_by("code").first()
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False), transaction.atomic():
        Application.all_objects.filter(pk=app.pk).update(sex=other)
        if by_year:
            services.recompute_mark_dirty(years=[app.received_on.year, app.decided_on.year])
        else:
            services.recompute_mark_dirty(application_ids=[app.pk])
    return app.pk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-floor", action="store_true", help="leave out the floor query")
    parser.add_argument(
        "--skip-full", action="store_true", help="measure the incremental runs only (needs a current version)"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/recompute.py needs PostgreSQL: set DATABASE_URL=postgres://...")

    top_up(args.applications, seed=args.seed, have=Application.all_objects.count())
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    load_before = os.getloadavg()
    temp_before = _temp_bytes()

    if args.skip_full:
        full_seconds, full = None, RecomputeRun.objects.filter(kind="full", outcome="success").first()
    else:
        full_seconds, full = _timed(lambda: services.recompute_full(trigger="bench"), "full")
        assert full.outcome == RecomputeRun.Outcome.SUCCESS, full.error

    _edit_one(by_year=False)
    incremental_seconds, incremental = _timed(lambda: services.recompute_pending(trigger="bench"), "incremental")
    _edit_one(by_year=True)
    year_seconds, by_year = _timed(lambda: services.recompute_pending(trigger="bench"), "by year")

    floor_seconds = None
    if not args.skip_floor:
        sql = Sql(today=timezone.localdate())
        # The floor runs with the settings the build gives its own transaction (work_mem, no JIT), so the two
        # are compared on equal terms.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.INDICATORS_WORK_MEM])
            cursor.execute("SELECT set_config('jit', 'off', true)")
            floor_seconds, _ = _timed(lambda: cursor.execute(floor_sql(sql), {"today": sql.today}), "floor")
            floor_cells = cursor.fetchone()[0]
    else:
        floor_cells = None

    result = {
        "applications": Application.all_objects.count(),
        "facts": ApplicationFact.objects.count(),
        "cells": IndicatorCell.objects.filter(version__is_current=True).count(),
        "cell_sets": len(dimensions.CELL_SETS),
        "full_seconds": None if full_seconds is None else round(full_seconds, 2),
        "full_rows_written": full.rows_written,
        "incremental_seconds": round(incremental_seconds, 3),
        "incremental_rows_written": incremental.rows_written,
        "incremental_year_seconds": round(year_seconds, 2),
        "incremental_year_rows_written": by_year.rows_written,
        "floor_seconds": None if floor_seconds is None else round(floor_seconds, 2),
        "floor_cells": floor_cells,
        "full_over_floor": None if not (floor_seconds and full_seconds) else round(full_seconds / floor_seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "postgres_work_mem_of_the_build": settings.INDICATORS_WORK_MEM,
        "postgres_temp_mb": round((_temp_bytes() - temp_before) / 2**20, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    with scopes_disabled():  # the recompute reads every record, for no user (records/scopes.py)
        main()
