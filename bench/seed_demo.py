"""Time ``seed_demo`` on the configured database and print one JSON object.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/conatt_records python bench/seed_demo.py --applications 1000000

Runs the management command in this process (so CPU time is the generator's, the database's work is the rest of
the wall time), then counts what was written. Meant for an empty, migrated database.
"""

import argparse
import json
import os
import resource
import sys
import time
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conatt_portal.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=20_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from records.models import Application, ApplicationEvent, Decision, Person

    before = Application.objects.count()
    started, cpu_started = time.perf_counter(), time.process_time()
    call_command(
        "seed_demo", applications=args.applications, seed=args.seed, chunk_size=args.chunk_size, stdout=StringIO()
    )
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    result = {
        "benchmark": "seed_demo",
        "database": connection.vendor,
        "applications_requested": args.applications,
        "applications_before": before,
        "applications_after": Application.objects.count(),
        "people": Person.objects.count(),
        "decisions": Decision.objects.count(),
        "workflow_events": ApplicationEvent.objects.count(),
        "wall_seconds": round(wall, 1),
        "python_cpu_seconds": round(cpu, 1),
        "applications_per_second": round(args.applications / wall) if wall else None,
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
