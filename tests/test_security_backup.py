"""Backup and restore (manage.py backup / restore): a backup restored into a fresh database has every table
with the same row count and content checksum as the original. The comparison here is the test's own
(tests/security_helpers.table_checksums through Django connections), not the manifest check of the commands,
so the commands are not graded by their own arithmetic."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils.module_loading import import_string

from accounts.models import AccessEvent, User
from operations.backup import manifest_path

from .security_helpers import table_checksums


def _wrapper_for(name: str):
    """A Django connection to another database with the same settings as the portal's (a restored copy)."""
    settings_dict = {**connection.settings_dict, "NAME": name}
    wrapper_class = import_string(f"{connection.settings_dict['ENGINE']}.base.DatabaseWrapper")
    return wrapper_class(settings_dict, alias=f"restored_{name}")


def _some_history(cast):
    for user in (cast.officer_a, cast.coordinator_b, cast.analyst_a):
        cast.client_for(user)  # each writes a login audit row
    AccessEvent.objects.create(action=AccessEvent.Action.LOGIN_FAILED, ip_address="192.0.2.9")
    AccessEvent.objects.create(
        user=cast.officer_a,
        action=AccessEvent.Action.IDENTITY_VIEW,
        object_type="records.application",
        object_id="7",
        detail="ñandú ☃ \u202e",
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sqlite_backup_restores_into_a_new_file_with_identical_tables(cast, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite path of the commands")
    _some_history(cast)
    backup = tmp_path / "portal.sqlite3.bak"
    restored = tmp_path / "restored.sqlite3"

    call_command("backup", str(backup))
    assert backup.exists()
    manifest = json.loads(manifest_path(backup).read_text())
    assert manifest["tables"]["accounts_accessevent"][0] == AccessEvent.objects.count() == 5

    call_command("restore", str(backup), into=str(restored))
    copy = _wrapper_for(str(restored))
    try:
        original, restored_sums = table_checksums(), table_checksums(using_connection=copy)
        assert set(original) == set(restored_sums)
        assert original == restored_sums
        assert len(original) > 20  # every table of the portal, not a handful
        assert restored_sums["accounts_user"][0] == User.objects.count() >= 9
        # The copy still refuses to rewrite its audit rows: the triggers travel with the backup.
        with copy.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            assert {"accessevent_no_update", "accessevent_no_delete"} <= {row[0] for row in cursor.fetchall()}
    finally:
        copy.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_restore_refuses_to_overwrite_an_existing_database(cast, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite path of the commands")
    backup = tmp_path / "portal.bak"
    call_command("backup", str(backup))
    existing = tmp_path / "existing.sqlite3"
    existing.write_bytes(b"precious")
    with pytest.raises(CommandError, match="already exists"):
        call_command("restore", str(backup), into=str(existing))
    assert existing.read_bytes() == b"precious"
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", str(backup))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_restore_detects_a_backup_that_does_not_match_its_manifest(cast, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite path of the commands")
    backup = tmp_path / "portal.bak"
    call_command("backup", str(backup))
    manifest = json.loads(manifest_path(backup).read_text())
    manifest["tables"]["accounts_user"][0] += 1
    manifest_path(backup).write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="accounts_user"):
        call_command("restore", str(backup), into=str(tmp_path / "restored.sqlite3"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_postgres_backup_restores_into_a_fresh_database_with_identical_tables(cast, tmp_path):
    import psycopg
    from psycopg import sql

    _some_history(cast)
    backup = tmp_path / "portal.dump"
    fresh = f"{connection.settings_dict['NAME']}_restored"

    def drop_fresh():
        admin = _wrapper_for("postgres")
        try:
            admin.ensure_connection()
            admin.connection.autocommit = True
            with admin.connection.cursor() as cursor:
                cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(fresh)))
        finally:
            admin.close()

    drop_fresh()
    try:
        call_command("backup", str(backup))
        with open(backup, "rb") as dump:
            assert dump.read(5) == b"PGDMP"  # pg_dump's custom format
        call_command("restore", str(backup), into=fresh)
        copy = _wrapper_for(fresh)
        try:
            original, restored_sums = table_checksums(), table_checksums(using_connection=copy)
            assert original == restored_sums
            assert restored_sums["accounts_accessevent"][0] == 5
            assert len(original) > 20
            # The restored copy keeps the append-only triggers.
            with copy.cursor() as cursor, pytest.raises(psycopg.errors.InsufficientPrivilege):
                cursor.cursor.execute("DELETE FROM accounts_accessevent")
        finally:
            copy.close()
        with pytest.raises(CommandError, match="already exists"):
            call_command("restore", str(backup), into=fresh)
    finally:
        drop_fresh()
