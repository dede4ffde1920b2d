"""A small import until the reports show it: ``python bench/small_import.py --applications 50000 [--rows 40]``.

Needs PostgreSQL (DATABASE_URL; a scratch database: it is topped up to N applications with ``seed_demo``). In one
run:

* ``full_seconds``: a full rebuild (``recompute_full``), the peer of the figure;
* ``rounds`` times (median reported): ``--rows`` new rows (``records.imports.samples``, received 2019-2024, so they
  touch six years) imported through the portal's import service as the embedded mode runs it: the recompute
  runs in-process right after the import's commit (``CELERY_TASK_ALWAYS_EAGER``), so when ``import_rows``
  returns the reports show the rows. ``seconds_to_reports`` is that whole call; ``recompute_seconds`` the
  recompute's own run row; ``kind`` the build the recompute chose;
* ``ratio_to_full``: ``seconds_to_reports / full_seconds``.

Prints one JSON object. The machine is shared: it also prints the load average before and after.
"""

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conatt_portal.settings")

import django  # noqa: E402
from seeding import top_up  # noqa: E402 (bench/seeding.py, beside this script)

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from accounts.memberships import membership_bootstrap  # noqa: E402
from accounts.models import Institution, User  # noqa: E402
from indicators import selectors, services  # noqa: E402
from indicators.models import IndicatorCell, RecomputeRun  # noqa: E402
from indicators.recompute.builder import Builder  # noqa: E402
from records.imports import parsing, samples  # noqa: E402
from records.imports import services as imports  # noqa: E402
from records.models import Application  # noqa: E402

INSTITUTION = "INAMU"


@contextlib.contextmanager
def _profiled(on: bool):
    """Time every statement the builder runs (``--profile``): where a recompute spends its time."""
    spent: list[tuple[float, str]] = []
    execute = Builder.execute
    if not on:
        yield spent
        return

    def timed(self, sql, params=None):
        started = time.perf_counter()
        try:
            return execute(self, sql, params)
        finally:
            spent.append((time.perf_counter() - started, " ".join(sql.split())[:150]))

    Builder.execute = timed
    try:
        yield spent
    finally:
        Builder.execute = execute


def _import(rows: int, *, seed: int, institution, user) -> dict:
    # Submitted (the sample's drafts never reach the reports), received 2019-2024.
    data = samples.to_csv(
        [dict(row, estado="SUBMITTED") for row in samples.sample_rows(rows, seed=seed, prefix=f"SMALL{seed}")]
    )
    before = RecomputeRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    received = selectors.measure_by_year(measure="received")
    started = time.perf_counter()
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        outcome = imports.import_rows(
            parsed=parsing.open_parsed(data, name="small.csv"), institution=institution, user=user, write=True
        )
    seconds = time.perf_counter() - started
    assert outcome.written and outcome.new == rows, outcome.errors.items[:3]
    run = RecomputeRun.objects.filter(pk__gt=before).order_by("-pk").first()
    assert run is not None and run.outcome == RecomputeRun.Outcome.SUCCESS, run and run.error
    after = selectors.measure_by_year(measure="received")
    assert sum(after.values()) == sum(received.values()) + rows  # the reports show the new rows
    return {"seconds_to_reports": seconds, "recompute_seconds": run.duration_seconds, "kind": run.kind}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=50000)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="print the slowest statements of each import's build")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a scratch PostgreSQL database.")
    load_before = os.getloadavg()
    top_up(args.applications, seed=args.seed, have=Application.all_objects.count())
    institution = Institution.objects.get(code=INSTITUTION)
    user, _ = User.objects.get_or_create(username="bench.small-import")
    membership_bootstrap(user=user, institution=institution, role="officer")

    started = time.perf_counter()
    full = services.recompute_full(trigger="bench")
    full_seconds = time.perf_counter() - started
    assert full.outcome == RecomputeRun.Outcome.SUCCESS, full.error

    rounds = []
    for n in range(args.rounds):
        # A seed of its own each round and each run, so the rows are always new applications.
        seed = int(time.time()) * 100 + n
        with _profiled(args.profile) as spent:
            rounds.append(_import(args.rows, seed=seed, institution=institution, user=user))
        for seconds, sql in sorted(spent, reverse=True)[:8]:
            print(f"  {seconds:6.3f} s  {sql}", file=sys.stderr)
        print(f"round {n + 1}: {rounds[-1]}", file=sys.stderr, flush=True)
    to_reports = statistics.median(r["seconds_to_reports"] for r in rounds)
    result = {
        "applications_before": args.applications,
        "rows_imported": args.rows,
        "full_seconds": round(full_seconds, 2),
        "seconds_to_reports": [round(r["seconds_to_reports"], 2) for r in rounds],
        "recompute_seconds": [round(r["recompute_seconds"], 2) for r in rounds],
        "kinds": [r["kind"] for r in rounds],
        "median_seconds_to_reports": round(to_reports, 2),
        "ratio_to_full": round(to_reports / full_seconds, 2),
        "target_seconds": 1.5,
        "cells_of_current_version": IndicatorCell.objects.filter(version__is_current=True).count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
