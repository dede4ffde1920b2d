"""The runner process of a large import in the embedded mode (records.imports.runner): started by the web
process on commit, it runs the step its job is waiting for and exits."""

from django.core.management.base import BaseCommand

from records.imports.runner import import_job_run


class Command(BaseCommand):
    help = "Run the waiting step (preview or confirm) of one import job; started by the portal itself."

    def add_arguments(self, parser):
        parser.add_argument("job_id", type=int)

    def handle(self, *args, job_id: int, **options):
        import_job_run(job_id=job_id)
