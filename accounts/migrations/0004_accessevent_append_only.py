"""The audit table is append-only: the database itself refuses UPDATE and DELETE of accounts_accessevent rows,
whatever the code (or an attacker with the portal's database login) asks. Users with audit rows are therefore
protected from deletion (deactivate them instead).

The SQL lives in accounts/audit.py, which also re-installs the triggers after every migrate (SQLite drops them
when a later migration rebuilds the table).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def create_triggers(apps, schema_editor):
    from accounts.audit import install_append_only_triggers

    install_append_only_triggers(schema_editor.connection)


def drop_triggers(apps, schema_editor):
    from accounts.audit import remove_append_only_triggers

    remove_append_only_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_apitoken"),
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
