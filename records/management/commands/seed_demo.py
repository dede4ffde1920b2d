"""``manage.py seed_demo --applications N [--seed S] [--if-empty]``: synthetic applications for demos and
benchmarks (see records.demo for what the data look like and how they are written fast)."""

import time

from django.core.management.base import BaseCommand, CommandError

from records import demo
from records.models import Application
from records.scopes import scopes_disabled


class Command(BaseCommand):
    help = "Create N synthetic applications (obviously fake identity data) for demonstrations and benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--applications", type=int, required=True, help="how many applications to create")
        parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
        parser.add_argument("--chunk-size", type=int, default=20_000, help="applications per transaction")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when there are applications already")

    @scopes_disabled()  # seeding writes and counts applications of every institution, for no user
    def handle(self, *args, applications: int, seed: int, chunk_size: int, if_empty: bool, **options):
        if applications < 0 or chunk_size < 1:
            raise CommandError("--applications must be >= 0 and --chunk-size >= 1.")
        if if_empty and Application.all_objects.exists():
            self.stdout.write("seed_demo: applications exist already; nothing done (--if-empty).")
            return
        started = time.perf_counter()
        verbosity = options.get("verbosity", 1)

        def progress(totals):
            if verbosity >= 2:
                elapsed = time.perf_counter() - started
                stage = totals.get("stage", "applications")
                self.stdout.write(f"  {totals['applications']:>9,} {stage}  {elapsed:7.1f} s")

        totals = demo.seed(applications=applications, seed=seed, chunk_size=chunk_size, progress=progress)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"seed_demo: {totals['applications']:,} applications, {totals['people']:,} people, "
            f"{totals['decisions']:,} decisions, {totals['rows']:,} rows in {elapsed:.1f} s"
        )
