"""Load code lists, geography and mother tongues from records/fixtures (copied from shared/reference).

The loader is records.reference, shared with the ``load_reference`` command so a partner country can load its
own files the same way."""

from django.db import migrations


def load(apps, schema_editor):
    from records.reference import load_reference

    load_reference(
        Code=apps.get_model("records", "Code"),
        Province=apps.get_model("records", "Province"),
        Canton=apps.get_model("records", "Canton"),
        District=apps.get_model("records", "District"),
        Language=apps.get_model("records", "Language"),
    )


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
