"""manage.py restore FILE --into TARGET: restore a backup made by ``manage.py backup`` into a FRESH database
(PostgreSQL: a new database name on the same server; SQLite: a new file) and check every table's row count and
checksum against the backup's manifest. It never overwrites the running database: point DATABASE_URL at the
restored one once it has been checked. See docs/SECURITY.md, "Backup and restore"."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from operations.backup import BackupError, restore_create


class Command(BaseCommand):
    help = "Restore FILE into a fresh database (--into NAME on PostgreSQL, --into PATH on SQLite) and verify it."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="a backup file written by manage.py backup")
        parser.add_argument(
            "--into", required=True, help="PostgreSQL: name of a database to create; SQLite: path of a new file"
        )

    def handle(self, *args, file: Path, into: str, **options):
        try:
            manifest = restore_create(backup=file, into=into)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {file} into {into}: all {len(manifest['tables'])} tables match the backup's row counts "
                "and checksums."
            )
        )
