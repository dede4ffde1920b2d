"""Benchmark of a re-import (issue 19, point 2): an unchanged file imported again must cost about what its first
dry run cost, since comparing a row with what is stored should be as cheap as validating it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/imports_bench python bench/import_reimport.py --rows 50000

One process, on a scratch database (its records tables are emptied first), in this order on one generated
template-shaped CSV of N new applications:

1. ``first_dry_run``: ``import_rows(write=False)`` on the empty institution (validate every row, classify: all new);
2. ``first_write``: ``import_rows(write=True)`` (the import itself, for reference; its recompute runs after it);
3. ``reimport_dry_run``: the same file's dry run again (validate, load what is stored, compare: all unchanged);
4. ``reimport_write``: the same file confirmed again (the same work in the write transaction; nothing written).

Prints one JSON object with wall and CPU seconds of each step (the client's, and its PostgreSQL backend's read from
``/proc``) and the ratios of steps 3 and 4 to step 1, the peer in the same run, in wall time and in CPU time (target:
at most 1.2).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conatt_portal.settings")
os.environ.setdefault("CONATT_ENV", "test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import import_rows as shared  # bench/import_rows.py: emptying the tables, the officer, the CPU clocks

    shared._django()
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Institution
    from records.imports import parsing, samples, services

    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a scratch PostgreSQL database.")
    call_command("migrate", verbosity=0)
    shared._empty_records()
    institution = Institution.objects.get(code=shared.BENCH_INSTITUTION)
    user = shared._user(institution)
    data = samples.to_csv(samples.sample_rows(args.rows, seed=args.seed))
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as handle:
        handle.write(data)
        path = handle.name
    load_before = os.getloadavg()[0]
    steps = {}

    def step(write: bool, expect: str):
        def run():
            parsed = parsing.open_parsed(path, name="bench.csv")
            outcome = services.import_rows(parsed=parsed, institution=institution, user=user, write=write)
            assert not outcome.errors, outcome.errors.items[:3]
            assert getattr(outcome, expect) == args.rows, (expect, outcome)
            return {"new": outcome.new, "updated": outcome.updated, "unchanged": outcome.unchanged}

        return run

    measure = shared._measured
    try:
        steps["first_dry_run"] = measure(args.rows, step(False, "new"))
        steps["first_write"] = measure(args.rows, step(True, "new"))
        with connection.cursor() as cursor:
            # What autovacuum does between two uploads: the planner learns the tables' new sizes.
            cursor.execute("ANALYZE")
        steps["reimport_dry_run"] = measure(args.rows, step(False, "unchanged"))
        steps["reimport_write"] = measure(args.rows, step(True, "unchanged"))
    finally:
        os.unlink(path)
    first = steps["first_dry_run"]["seconds"]

    def cpu(step: str) -> float:
        return steps[step]["client_cpu_seconds"] + steps[step]["server_cpu_seconds"]

    report = {
        "rows": args.rows,
        "database": connection.vendor,
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        **steps,
        "reimport_dry_run_vs_first_dry_run": round(steps["reimport_dry_run"]["seconds"] / first, 2),
        "reimport_write_vs_first_dry_run": round(steps["reimport_write"]["seconds"] / first, 2),
        # On a shared machine the wall ratios mostly measure the neighbours; the CPU ones (client + its database
        # backend) are what the steps themselves cost.
        "reimport_dry_run_vs_first_dry_run_cpu": round(cpu("reimport_dry_run") / cpu("first_dry_run"), 2),
        "reimport_write_vs_first_dry_run_cpu": round(cpu("reimport_write") / cpu("first_dry_run"), 2),
        "peak_memory_mb": shared._peak_mb(),
    }
    report["targets"] = {
        "reimport_dry_run_le_1_2x": report["reimport_dry_run_vs_first_dry_run"] <= 1.2,
        "reimport_write_le_1_2x": report["reimport_write_vs_first_dry_run"] <= 1.2,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
