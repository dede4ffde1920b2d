"""manage.py backup FILE: a consistent backup of the whole portal database and its manifest (row count and
checksum of every table). PostgreSQL: pg_dump custom format from an exported snapshot; SQLite: the online
backup API. See docs/SECURITY.md, "Backup and restore"."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from operations.backup import BackupError, backup_create, manifest_path


class Command(BaseCommand):
    help = "Back up the portal database to FILE (and FILE.manifest.json)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the backup file to create (must not exist)")

    def handle(self, *args, file: Path, **options):
        try:
            manifest = backup_create(output=file)
        except BackupError as error:
            raise CommandError(str(error)) from error
        rows = sum(count for count, _ in manifest["tables"].values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {file} ({manifest['vendor']}, {len(manifest['tables'])} tables, {rows} rows); "
                f"manifest {manifest_path(file)}"
            )
        )
