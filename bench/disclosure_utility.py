"""What the cell key method costs analysts: ``python bench/disclosure_utility.py --applications N``.

Tops the database (DATABASE_URL; SQLite works for small N) up to N synthetic applications with ``seed_demo``,
recomputes the indicators in full, then compares every figure an analyst can read with the exact one, over
every cell set the recompute publishes (one, two and three dimensions), for every year and for the whole
span, and the measures received, accredited and accredited persons:

* ``mean_absolute_deviation``: mean |published - exact| over the non-zero figures shown (not "<k");
* ``share_of_figures_unchanged``;
* ``share_over_100_within_2_percent``: of the figures above 100, the share published within 2% of the truth;
* ``hidden_share``: the share of non-zero figures shown as "<k".

Prints one JSON object.
"""

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conatt_portal.settings")

import django  # noqa: E402
from seeding import top_up  # noqa: E402 (bench/seeding.py, beside this script)

django.setup()

from django.conf import settings  # noqa: E402

from indicators import disclosure, selectors, services  # noqa: E402
from indicators.dimensions import CELL_SETS  # noqa: E402
from records.models import Application  # noqa: E402
from records.scopes import scopes_disabled  # noqa: E402

MEASURES = ("received", "accredited", "accredited_persons")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    top_up(args.applications, seed=args.seed, have=Application.all_objects.count())
    started = time.perf_counter()
    services.recompute_full()
    recompute = time.perf_counter() - started
    k = settings.DISCLOSURE_K
    deviations, over_100, hidden, nonzero = [], [], 0, 0
    started = time.perf_counter()
    for cell_set in CELL_SETS:
        dims = sorted(cell_set)
        if not dims or len(dims) > 3:
            continue
        for measure in MEASURES:
            # One read per cell set and measure: a year's figures are its cells as stored, the whole span's
            # are their sums (counts and keys add up, disclosure.Count), as the report pages compute them.
            try:
                by_year = selectors.crosstab_by_year(measure=measure, dims=dims)
            except ValueError:
                continue
            whole_span: dict[tuple, int] = defaultdict(int)
            for (_year, *codes), n in by_year.items():
                whole_span[tuple(codes)] += n
            for n in [*by_year.values(), *whole_span.values()]:
                if not n:
                    continue
                nonzero += 1
                cell = disclosure.protect_count(n, k=k)
                if cell.value is None:
                    hidden += 1
                    continue
                deviations.append(abs(cell.value - int(n)))
                if n > 100:
                    over_100.append(abs(cell.value - int(n)) <= 0.02 * int(n))
    compared = time.perf_counter() - started
    print(
        json.dumps(
            {
                "applications": Application.all_objects.count(),
                "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                "max_deviation": settings.DISCLOSURE_MAX_DEVIATION,
                "variance": settings.DISCLOSURE_VARIANCE,
                "k": k,
                "figures_compared": nonzero,
                "mean_absolute_deviation": round(sum(deviations) / len(deviations), 4),
                "share_of_figures_unchanged": round(sum(1 for d in deviations if d == 0) / len(deviations), 4),
                "figures_over_100": len(over_100),
                "share_over_100_within_2_percent": round(sum(over_100) / len(over_100), 4) if over_100 else None,
                "hidden_share": round(hidden / nonzero, 4),
                "full_recompute_seconds": round(recompute, 2),
                "compare_seconds": round(compared, 2),
                "load_average": os.getloadavg()[0],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    with scopes_disabled():  # the recompute reads every record, for no user (records/scopes.py)
        main()
