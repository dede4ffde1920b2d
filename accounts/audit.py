"""The audit table (accounts_accessevent) is append-only in the database itself: triggers refuse UPDATE and
DELETE of its rows, whatever the code, the admin or someone holding the portal's database login asks.

PostgreSQL: a plpgsql trigger function raises ``insufficient_privilege`` before a row is updated or deleted.
SQLite (embedded mode): triggers with ``RAISE(ABORT, ...)``. The migration installs them; the post_migrate
receiver in accounts.apps installs them again after every ``migrate`` and ``flush``, because SQLite drops a
table's triggers when a later migration rebuilds the table. The test database's flush between transactional
tests empties the table on SQLite with DELETE, so tests/conftest.py lifts the SQLite triggers for that flush
only; PostgreSQL's flush uses TRUNCATE, which row triggers do not see (the least-privilege role of
docs/SECURITY.md has no TRUNCATE right).
"""

from __future__ import annotations

TABLE = "accounts_accessevent"
TRIGGERS = ("accessevent_no_update", "accessevent_no_delete")

_POSTGRES_CREATE = """
CREATE OR REPLACE FUNCTION conatt_accessevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- No percent sign here: the statement goes through the driver's parameter parsing.
    RAISE EXCEPTION USING
        MESSAGE = 'accounts_accessevent is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$;
DROP TRIGGER IF EXISTS accessevent_no_update ON accounts_accessevent;
DROP TRIGGER IF EXISTS accessevent_no_delete ON accounts_accessevent;
CREATE TRIGGER accessevent_no_update BEFORE UPDATE ON accounts_accessevent
    FOR EACH ROW EXECUTE FUNCTION conatt_accessevent_append_only();
CREATE TRIGGER accessevent_no_delete BEFORE DELETE ON accounts_accessevent
    FOR EACH ROW EXECUTE FUNCTION conatt_accessevent_append_only();
"""
_POSTGRES_DROP = """
DROP TRIGGER IF EXISTS accessevent_no_update ON accounts_accessevent;
DROP TRIGGER IF EXISTS accessevent_no_delete ON accounts_accessevent;
DROP FUNCTION IF EXISTS conatt_accessevent_append_only();
"""
_SQLITE_CREATE = [
    "DROP TRIGGER IF EXISTS accessevent_no_update",
    "DROP TRIGGER IF EXISTS accessevent_no_delete",
    """CREATE TRIGGER accessevent_no_update BEFORE UPDATE ON accounts_accessevent
       BEGIN SELECT RAISE(ABORT, 'accounts_accessevent is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER accessevent_no_delete BEFORE DELETE ON accounts_accessevent
       BEGIN SELECT RAISE(ABORT, 'accounts_accessevent is append-only: DELETE refused'); END""",
]
_SQLITE_DROP = ["DROP TRIGGER IF EXISTS accessevent_no_update", "DROP TRIGGER IF EXISTS accessevent_no_delete"]


def _execute(connection, postgres: str, sqlite: list[str]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(postgres)
        elif connection.vendor == "sqlite":
            for statement in sqlite:
                cursor.execute(statement)
        # The portal supports PostgreSQL and SQLite only.


def install_append_only_triggers(connection) -> None:
    """Create (or re-create) the triggers. Idempotent."""
    if TABLE in connection.introspection.table_names():
        _execute(connection, _POSTGRES_CREATE, _SQLITE_CREATE)


def remove_append_only_triggers(connection) -> None:
    _execute(connection, _POSTGRES_DROP, _SQLITE_DROP)


def installed_triggers(connection) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'accounts_accessevent'::regclass AND NOT tgisinternal"
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
        return {row[0] for row in cursor.fetchall()}


def reinstall_after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate receiver (connected in accounts.apps): runs after migrate and after flush."""
    from django.db import connections

    install_append_only_triggers(connections[using])
