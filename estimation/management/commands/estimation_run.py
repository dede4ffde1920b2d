"""The runner process of an estimation run in the embedded mode (conatt_portal.runners): started by the web
process on commit, it fits and bootstraps its run and exits."""

from django.core.management.base import BaseCommand

from estimation.services import estimation_execute


class Command(BaseCommand):
    help = "Compute one queued estimation run; started by the portal itself."

    def add_arguments(self, parser):
        parser.add_argument("run_id", type=int)

    def handle(self, *args, run_id: int, **options):
        estimation_execute(run_id=run_id)
