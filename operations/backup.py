"""Backup and restore of the whole portal database, with a manifest that proves the restore is complete.

- PostgreSQL: ``pg_dump --format=custom`` of the database, taken from a snapshot exported by a repeatable-read
  transaction, in which the manifest (row count and checksum of every table) is computed too, so both describe
  the same instant even while the portal keeps writing. Restore creates a FRESH database (it refuses an
  existing one), runs ``pg_restore --single-transaction --exit-on-error --no-owner`` into it and checks the
  manifest against it.
- SQLite: the sqlite3 online backup API copies the database page by page into the backup file; the manifest is
  computed from that file. Restore copies the backup into a NEW file (it refuses an existing one) with the same
  API and checks the manifest.

The manifest is written next to the backup as ``<backup>.manifest.json``. A restore whose tables differ from
the manifest fails loudly and says which tables differ.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.db import connection as default_connection
from django.db import transaction

MANIFEST_SUFFIX = ".manifest.json"


class BackupError(Exception):
    pass


@dataclass(frozen=True)
class PgTarget:
    name: str
    user: str
    password: str
    host: str
    port: str

    @classmethod
    def from_settings(cls, settings_dict: dict, name: str | None = None) -> PgTarget:
        return cls(
            name=name or settings_dict["NAME"],
            user=settings_dict.get("USER") or "",
            password=settings_dict.get("PASSWORD") or "",
            host=settings_dict.get("HOST") or "",
            port=str(settings_dict.get("PORT") or ""),
        )

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({"PGUSER": self.user, "PGHOST": self.host, "PGPORT": self.port, "PGDATABASE": self.name})
        if self.password:
            env["PGPASSWORD"] = self.password  # passed through the environment, never on the command line
        return {k: v for k, v in env.items() if v != ""}

    def connect(self):
        import psycopg

        return psycopg.connect(
            dbname=self.name,
            user=self.user or None,
            password=self.password or None,
            host=self.host or None,
            port=self.port or None,
            autocommit=True,
        )


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


# --- checksums -----------------------------------------------------------------------------------------------


def _pg_checksums(cursor) -> dict[str, list]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [row[0] for row in cursor.fetchall()]
    result = {}
    for table in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        # The text form of each row, sorted, hashed: independent of physical order, sensitive to every value.
        cursor.execute(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) "  # noqa: S608
            f"FROM {quoted} AS t"
        )
        count, digest = cursor.fetchone()
        result[table] = [count, digest]
    return result


def _sqlite_checksums(conn: sqlite3.Connection) -> dict[str, list]:
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    result = {}
    for table in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        rows = sorted(repr(row) for row in conn.execute(f"SELECT * FROM {quoted}"))  # noqa: S608
        result[table] = [len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()]
    return result


def database_checksums(conn=None) -> dict[str, list]:
    """Row count and checksum of every table of a live Django connection (default: the portal's)."""
    conn = conn or default_connection
    conn.ensure_connection()
    if conn.vendor == "postgresql":
        with conn.cursor() as cursor:
            return _pg_checksums(cursor)
    if conn.vendor == "sqlite":
        return _sqlite_checksums(conn.connection)
    raise BackupError(f"unsupported database: {conn.vendor}")


def compare(expected: dict[str, list], actual: dict[str, list]) -> list[str]:
    """The tables whose row count or checksum differ (or that are missing on either side)."""
    problems = []
    for table in sorted(set(expected) | set(actual)):
        if table not in actual:
            problems.append(f"{table}: missing after restore")
        elif table not in expected:
            problems.append(f"{table}: not in the backup")
        elif list(expected[table]) != list(actual[table]):
            problems.append(
                f"{table}: expected {expected[table][0]} rows, found {actual[table][0]} (or content differs)"
            )
    return problems


# --- backup --------------------------------------------------------------------------------------------------


def backup_create(*, output: Path, conn=None) -> dict:
    """Write a backup of the portal database to ``output`` and its manifest next to it. Returns the manifest."""
    conn = conn or default_connection
    output = Path(output)
    if output.exists():
        raise BackupError(f"{output} already exists; choose a new file name")
    output.parent.mkdir(parents=True, exist_ok=True)
    conn.ensure_connection()
    if conn.vendor == "postgresql":
        tables = _pg_backup(conn, output)
    elif conn.vendor == "sqlite":
        tables = _sqlite_backup(conn, output)
    else:
        raise BackupError(f"unsupported database: {conn.vendor}")
    manifest = {"vendor": conn.vendor, "file": output.name, "tables": tables}
    manifest_path(output).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    return manifest


def _pg_backup(conn, output: Path) -> dict[str, list]:
    if shutil.which("pg_dump") is None:
        raise BackupError("pg_dump is not installed (apt-get install postgresql-client)")
    target = PgTarget.from_settings(conn.settings_dict)
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        # The dump and the manifest read the same snapshot.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        result = subprocess.run(  # noqa: S603 - fixed program, arguments from settings
            ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={output}", target.name],  # noqa: S607
            env=target.env(),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            output.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        return _pg_checksums(cursor)


def _sqlite_backup(conn, output: Path) -> dict[str, list]:
    if conn.in_atomic_block:
        # The backup API waits for the source's write lock, which this very connection holds: it would never end.
        raise BackupError("run the SQLite backup outside a transaction")
    destination = sqlite3.connect(output)
    try:
        conn.connection.backup(destination)
        return _sqlite_checksums(destination)
    finally:
        destination.close()


# --- restore -------------------------------------------------------------------------------------------------


def restore_create(*, backup: Path, into: str, conn=None) -> dict:
    """Restore ``backup`` into a fresh database named ``into`` (PostgreSQL: a database on the same server;
    SQLite: a new file path), then check every table against the manifest. Returns the manifest."""
    conn = conn or default_connection
    backup = Path(backup)
    if not backup.exists():
        raise BackupError(f"{backup} does not exist")
    manifest_file = manifest_path(backup)
    if not manifest_file.exists():
        raise BackupError(f"{manifest_file} is missing: it is written by the backup command next to the backup")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    if manifest["vendor"] == "postgresql":
        actual = _pg_restore(conn, backup, into)
    elif manifest["vendor"] == "sqlite":
        actual = _sqlite_restore(backup, Path(into))
    else:
        raise BackupError(f"unsupported database: {manifest['vendor']}")
    problems = compare(manifest["tables"], actual)
    if problems:
        raise BackupError("the restored database differs from the backup: " + "; ".join(problems))
    return manifest


def _pg_restore(conn, backup: Path, into: str) -> dict[str, list]:
    if shutil.which("pg_restore") is None:
        raise BackupError("pg_restore is not installed (apt-get install postgresql-client)")
    server = PgTarget.from_settings(conn.settings_dict, name="postgres")
    target = PgTarget.from_settings(conn.settings_dict, name=into)
    from psycopg import sql

    with server.connect() as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [into]).fetchone()
        if exists:
            raise BackupError(f"database {into} already exists: restore only into a fresh database")
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(into)))
    result = subprocess.run(  # noqa: S603
        ["pg_restore", "--single-transaction", "--exit-on-error", "--no-owner", f"--dbname={into}", str(backup)],  # noqa: S607
        env=target.env(),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed (database {into} left for inspection): {result.stderr.strip()}")
    with target.connect() as restored, restored.cursor() as cursor:
        return _pg_checksums(cursor)


def _sqlite_restore(backup: Path, into: Path) -> dict[str, list]:
    if into.exists():
        raise BackupError(f"{into} already exists: restore only into a new file")
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    destination = sqlite3.connect(into)
    try:
        source.backup(destination)
        return _sqlite_checksums(destination)
    finally:
        source.close()
        destination.close()
