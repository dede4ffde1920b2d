"""What the cell keys cost the recompute: ``python bench/cell_key_cost.py --applications N [--rounds R]``.

Needs PostgreSQL (DATABASE_URL). Tops the database up to N applications with ``seed_demo``, runs one full
recompute to warm up (it draws the record keys of applications and persons that have none yet, timed apart:
keys are drawn once in a database's life), then alternates full recomputes WITH cell keys (the code as it runs)
and WITHOUT them (the same engine with the key work taken out: no key drawing, no key columns read from the key
tables, every key aggregate replaced by a constant 0), in the order with, without, without, with, ... so a drift
in the machine's load falls on both sides.

"Without" is made here, in the benchmark, by rewriting the SQL the builder runs
(``indicators.recompute.builder.Builder.execute``), so the production engine carries no switch for it. It still
writes the key columns (as zeros), so the figure slightly understates what the keys cost: only their storage is
left in both.

Each run checks that the cells are the same counts both ways (the checksum of ``n``) and that the "without" run
really wrote no key. Prints one JSON object: the seconds of each run, the medians and their ratio (the issue's
target: at most 1.10).
"""

import argparse
import json
import os
import re
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conatt_portal.settings")

import django  # noqa: E402
from seeding import top_up  # noqa: E402 (bench/seeding.py, beside this script)

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count, Sum  # noqa: E402

from indicators import services  # noqa: E402
from indicators.disclosure import KEY_MODULUS  # noqa: E402
from indicators.models import IndicatorCell, RecomputeRun, RecordKey  # noqa: E402
from indicators.recompute.builder import Builder  # noqa: E402
from records.models import Application  # noqa: E402
from records.scopes import scopes_disabled  # noqa: E402

# The key aggregate of indicators.recompute.sql._key_sum, whatever it sums (its argument never holds ", 0) % M").
_KEY_AGGREGATE = re.compile(rf"CAST\(COALESCE\(SUM\(.*?\), 0\) % {KEY_MODULUS} AS INTEGER\)")
_KEY_JOIN = re.compile(r"LEFT JOIN \S+ [pr]key ON [pr]key\.\S+ = [^\n]*")


def _without_keys(sql: str) -> str:
    sql = _KEY_AGGREGATE.sub("0", sql)
    sql = sql.replace("COALESCE(rkey.key, 0)", "0").replace("COALESCE(pkey.key, 0)", "0")
    return _KEY_JOIN.sub("", sql)


@contextmanager
def keys_taken_out():
    execute, record_keys = Builder.execute, Builder.record_keys
    Builder.execute = lambda self, sql, params=None: execute(self, _without_keys(sql), params)
    Builder.record_keys = lambda self, scope="1=1": None
    try:
        yield
    finally:
        Builder.execute, Builder.record_keys = execute, record_keys


def _full() -> float:
    started = time.perf_counter()
    run = services.recompute_full(trigger="bench")
    elapsed = time.perf_counter() - started
    assert run.outcome == RecomputeRun.Outcome.SUCCESS, run.error
    return elapsed


def _checksum() -> dict:
    cells = IndicatorCell.objects.filter(version__is_current=True)
    totals = cells.aggregate(cells=Count("id"), n=Sum("n"), n_key=Sum("n_key"), persons_key=Sum("persons_key"))
    return {k: int(v or 0) for k, v in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2, help="pairs of runs (with, without), alternated")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/cell_key_cost.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    top_up(args.applications, seed=args.seed, have=Application.all_objects.count())
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    load_before = os.getloadavg()
    keys_before = RecordKey.objects.count()
    warm_up = _full()
    reference = _checksum()

    seconds: dict[str, list[float]] = {"with_keys": [], "without_keys": []}
    order = []
    for i in range(args.rounds):
        order += ["with_keys", "without_keys"] if i % 2 == 0 else ["without_keys", "with_keys"]
    for label in order:
        if label == "with_keys":
            seconds[label].append(round(_full(), 2))
            check = _checksum()
            assert check == reference, (check, reference)
        else:
            with keys_taken_out():
                seconds[label].append(round(_full(), 2))
            check = _checksum()
            assert check["n"] == reference["n"] and check["cells"] == reference["cells"], (check, reference)
            assert check["n_key"] == 0 and check["persons_key"] == 0, "the keys were not taken out"
        print(f"{label}: {seconds[label][-1]} s", file=sys.stderr, flush=True)
    _full()  # leave the database with its keyed cells

    with_median = statistics.median(seconds["with_keys"])
    without_median = statistics.median(seconds["without_keys"])
    print(
        json.dumps(
            {
                "applications": Application.all_objects.count(),
                "cells": reference["cells"],
                "record_keys_drawn_in_warm_up": RecordKey.objects.count() - keys_before,
                "warm_up_full_seconds": round(warm_up, 2),
                "order": order,
                "full_seconds": seconds,
                "median_with_keys": with_median,
                "median_without_keys": without_median,
                "with_over_without": round(with_median / without_median, 3),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    with scopes_disabled():  # the recompute reads every record, for no user (records/scopes.py)
        main()
