from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import DEMO_MEMBERS, demo_users_create


class Command(BaseCommand):
    help = "Create demo users for every role in two institutions and print their logins (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="Conatt-demo-2026!")

    def handle(self, *args, password, **options):
        if settings.PRODUCTION:
            raise CommandError("Demo users are never created in production.")
        demo_users_create(password=password)
        self.stdout.write(f"Demo users (password for all: {password})")
        for _name, username, institution, role in DEMO_MEMBERS:
            self.stdout.write(f"  {username:22} {institution:8} {role}")
        self.stdout.write(
            "Officers, coordinators and admins enrol a two-factor app (QR code) at their first login. "
            "Demo roles are in effect at once; roles granted in the admin wait for a second admin."
        )
