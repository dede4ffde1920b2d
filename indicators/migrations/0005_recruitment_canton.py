"""A new dimension, the canton of recruitment: a column of the facts and a column of the cells.

Why the facts are emptied rather than filled from the records here: filling the new fact column would not be
enough. The current indicator version holds no ``recruitment_canton`` cells at all; an incremental recompute
rebuilds only the years it is given, and the difference by application would subtract cells that were never
written (negative counts in the "not recorded" canton). Only a full rebuild writes the new cell set for every
year. The facts are derived data that every full rebuild rewrites, so this migration empties them (and their
bridge rows): ``services._facts_lost`` then sees a current version without facts and turns the next recompute,
whatever it was asked for, into a full one. Where indicators were already built, the years of the old facts
are put in the outbox, so the periodic sweep runs that rebuild within a minute instead of at night. Until then
every other report reads the current version as before, and the new map shows no counts.

Emptying comes before adding the columns: SQLite adds a NOT NULL column by copying the table, which is cheap
once it is empty."""

from django.db import migrations, models

FACT_TABLES = ["indicators_applicationfact", "indicators_applicationfactvalue"]


def rebuild_on_next_recompute(apps, schema_editor):
    fact = apps.get_model("indicators", "ApplicationFact")
    version = apps.get_model("indicators", "IndicatorVersion")
    pending = apps.get_model("indicators", "PendingRecompute")
    using = schema_editor.connection.alias
    if version.objects.using(using).filter(is_current=True).exists():
        facts = fact.objects.using(using)
        years = set(facts.values_list("received_year", flat=True).distinct())
        years |= set(facts.exclude(decided_year=None).values_list("decided_year", flat=True).distinct())
        pending.objects.using(using).bulk_create([pending(year=year) for year in sorted(years)])
    quote = schema_editor.quote_name
    for table in FACT_TABLES:  # constant table names, nothing from outside
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"TRUNCATE {quote(table)}")
        else:
            schema_editor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0004_fact_time_key_cells_unconstrained"),
    ]

    operations = [
        # Backwards: nothing to undo; the next full rebuild refills the facts without the column.
        migrations.RunPython(rebuild_on_next_recompute, migrations.RunPython.noop),
        migrations.AddField(
            model_name="applicationfact",
            name="recruitment_canton",
            field=models.CharField(blank=True, max_length=10),
        ),
        migrations.AddField(
            model_name="indicatorcell",
            name="recruitment_canton",
            field=models.CharField(max_length=40, null=True),
        ),
    ]
