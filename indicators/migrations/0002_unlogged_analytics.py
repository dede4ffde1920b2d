"""On PostgreSQL the per-application analytics tables are UNLOGGED: they are rebuilt from the records by every
full recompute (and the incremental one rewrites every row it reads), so writing them to the WAL would only
slow the rebuild down. After a crash PostgreSQL empties them; the indicator cells, which pages read, stay
logged, and the nightly rebuild (or ``recompute_indicators --full``) refills the facts."""

from django.db import migrations

TABLES = ["indicators_applicationfact", "indicators_applicationfactvalue"]


def set_unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f'ALTER TABLE "{table}" SET UNLOGGED')


def set_logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f'ALTER TABLE "{table}" SET LOGGED')


class Migration(migrations.Migration):
    dependencies = [("indicators", "0001_initial")]

    operations = [migrations.RunPython(set_unlogged, set_logged)]
