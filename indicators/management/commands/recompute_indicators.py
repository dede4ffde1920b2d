"""``python manage.py recompute_indicators [--full]``: the same service the Celery tasks call."""

from django.core.management.base import BaseCommand, CommandError

from indicators import services
from indicators.models import RecomputeRun
from records.scopes import scopes_disabled


class Command(BaseCommand):
    help = "Recompute the indicator tables: the years waiting in the outbox, or everything with --full."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Rebuild every indicator as a new version.")
        parser.add_argument(
            "--no-wait", action="store_true", help="Skip instead of waiting when another recompute is running."
        )

    @scopes_disabled()  # the recompute reads every record, for no user (records/scopes.py)
    def handle(self, *args, full: bool = False, no_wait: bool = False, **options):
        wait = not no_wait
        run: RecomputeRun | None
        try:
            if full:
                run = services.recompute_full(wait=wait, trigger="command")
            else:
                run = services.recompute_pending(wait=wait, trigger="command")
        except Exception as error:
            # The run row holds the traceback; the old indicator version stays current.
            raise CommandError(f"Recompute failed ({type(error).__name__}); see the run history in the admin.")
        if run is None:
            self.stdout.write("Nothing pending.")
            return
        if run.outcome == RecomputeRun.Outcome.SKIPPED:
            self.stdout.write("Skipped: another recompute is running.")
            return
        self.stdout.write(
            f"{run.kind} recompute {run.outcome}: {run.rows_written} rows in {run.duration_seconds:.2f}s "
            f"(years {', '.join(str(y) for y in run.years) or '-'})"
        )
