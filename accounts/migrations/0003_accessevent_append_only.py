"""The audit table is append-only: the database itself refuses UPDATE and DELETE of accounts_accessevent rows,
whatever the code (or an attacker with the portal's database login) asks. Users with audit rows are therefore
protected from deletion (deactivate them instead).

PostgreSQL: a plpgsql trigger function raises an error before any row is updated or deleted. SQLite (embedded
mode): triggers with RAISE(ABORT). On SQLite a later AlterField on this table rebuilds it and drops the
triggers: tests/test_security_audit.py fails if that happens, so re-create them in that migration.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

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


def _run(schema_editor, postgres, sqlite):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(postgres)
    elif vendor == "sqlite":
        for statement in sqlite:
            schema_editor.execute(statement)
    # Other databases are not supported by the portal; nothing to do.


def create_triggers(apps, schema_editor):
    _run(schema_editor, _POSTGRES_CREATE, _SQLITE_CREATE)


def drop_triggers(apps, schema_editor):
    _run(schema_editor, _POSTGRES_DROP, _SQLITE_DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_seed_institutions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accessevent",
            name="user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
