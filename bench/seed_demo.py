"""Time ``seed_demo`` on the configured database and print one JSON object.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/conatt_records python bench/seed_demo.py --applications 1000000

Runs the management command in this process (so CPU time is the generator's, the database's work is the rest of
the wall time), then counts what was written and times the queries behind the busiest record pages (median of 5).
Meant for an empty, migrated database. ``--pages-only`` skips the seeding and only times the pages.
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
    parser.add_argument("--pages-only", action="store_true", help="skip seeding; time the record pages' queries")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from records.models import Application, ApplicationEvent, Decision, Person

    before = Application.all_objects.count()
    if args.pages_only:
        print(json.dumps({"benchmark": "records_pages", "applications": before, **page_timings()}))
        return
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
        "applications_after": Application.all_objects.count(),
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
    result.update(page_timings())
    print(json.dumps(result))


def _median_ms(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    times.sort()
    return round(times[len(times) // 2] * 1000, 1)


def page_timings() -> dict:
    """Median milliseconds of the queries behind the busiest record pages (first page of 50, with its capped count),
    for an officer of one institution and for a coordinator, on whatever data the database holds."""
    from accounts.demo import demo_users_create
    from records import selectors
    from records.models import Application
    from records.views import CappedPaginator

    users = demo_users_create(password="bench-only-" + str(time.time_ns()))  # noqa: S106
    officer, coordinator = users["officer_a"], users["coordinator_a"]

    def first_page(qs):
        page = CappedPaginator(qs, 50).get_page(1)
        return page.paginator.count, list(page.object_list)

    sample = (
        Application.all_objects.exclude(status="DRAFT")
        .exclude(person__person_key="")
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )
    timings = {
        "officer_list_ms": _median_ms(lambda: first_page(selectors.application_list(user=officer))),
        "coordinator_list_ms": _median_ms(lambda: first_page(selectors.application_list(user=coordinator))),
        "coordinator_list_filtered_year_ms": _median_ms(
            lambda: first_page(selectors.application_list(user=coordinator, year=2024, status="ACCREDITED"))
        ),
        "queue_ms": _median_ms(lambda: first_page(selectors.queue(user=coordinator))),
        "queue_overdue_ms": _median_ms(lambda: first_page(selectors.queue(user=coordinator, state="overdue"))),
    }
    if sample:
        application = Application.all_objects.get(pk=sample)
        timings["duplicates_of_one_case_ms"] = _median_ms(
            lambda: selectors.possible_duplicates(user=coordinator, application=application)
        )
        timings["history_of_one_case_ms"] = _median_ms(lambda: selectors.application_history(application=application))
    return timings


if __name__ == "__main__":
    main()
