"""Benchmark of multiple systems estimation (estimation/): ``python bench/mse.py [--applications N]
[--replications R] [--simulations S]``.

Prints one JSON object with:

* ``six_lists``: the UK 2013 data (six lists, 2,744 people; tests/test_estimation_mse.py gives the source): the
  stepwise estimate, then R bootstrap replications (default 1,000) each choosing its model again, plus the BCa
  jackknife; ``bootstrap_seconds`` for all of it and the interval;
* ``read``: the time to read the capture histories of every submitted application (``selectors.capture_input``
  over all years) from the database in DATABASE_URL, after topping it up to N synthetic applications with
  records.demo when it has fewer (skipped with ``--applications 0``). Migrate that database first;
* ``coverage``: S seeded simulations (estimation.simulation: 1,500 people, four lists, one dependence between
  two of them) and the share whose 95% interval holds the true size (skipped with ``--simulations 0``).

The machine is shared: run it once, at small sizes (50,000 applications at most here), and report its load.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conatt_portal.settings")

import django  # noqa: E402

django.setup()

from estimation import bootstrap, loglinear, selectors, simulation  # noqa: E402
from records.models import Application  # noqa: E402
from records.scopes import scopes_disabled  # noqa: E402
from tests.test_estimation_mse import uk  # noqa: E402


def six_lists(replications: int) -> dict:
    table = uk()
    started = time.perf_counter()
    selection = loglinear.stepwise(table)
    point_seconds = time.perf_counter() - started
    started = time.perf_counter()
    interval, _ = bootstrap.bootstrap_interval(table, selection.fit.estimate, replications=replications, seed=2024)
    return {
        "lists": table.t,
        "observed": table.observed,
        "estimate": round(selection.fit.estimate, 1),
        "interactions": len(selection.fit.model),
        "point_seconds": round(point_seconds, 3),
        "replications": replications,
        "bootstrap_seconds": round(time.perf_counter() - started, 2),
        "interval": [round(interval.low), round(interval.high)],
        "interval_method": interval.method,
        "failed_replications": interval.failed,
    }


def read(applications: int) -> dict:
    from records import demo

    have = Application.all_objects.count()
    if have < applications:
        demo.seed(applications=applications - have, seed=have + 1)
    years = selectors.years_with_records()
    started = time.perf_counter()
    captured = selectors.capture_input(year_from=years[0], year_to=years[-1], min_list_size=30)
    return {
        "applications": captured.applications,
        "lists": len(captured.lists),
        "undocumented": captured.undocumented,
        "read_seconds": round(time.perf_counter() - started, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=50_000)
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--simulations", type=int, default=200)
    parser.add_argument("--simulation-replications", type=int, default=1000)
    args = parser.parse_args()
    out = {"six_lists": six_lists(args.replications)}
    if args.applications:
        out["read"] = read(args.applications)
    if args.simulations:
        started = time.perf_counter()
        out["coverage"] = simulation.coverage(simulations=args.simulations, replications=args.simulation_replications)
        out["coverage"]["seconds"] = round(time.perf_counter() - started, 1)
    out["load_average"] = os.getloadavg()
    print(json.dumps(out, indent=2))  # noqa: T201


if __name__ == "__main__":
    with scopes_disabled():  # seeding and the capture histories read every record, for no user (records/scopes.py)
        main()
