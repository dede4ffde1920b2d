"""Load the institutions of accounts/fixtures/institutions.csv, each with the group that cases are shared to."""

import csv
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "institutions.csv"


def load(apps, schema_editor):
    Institution = apps.get_model("accounts", "Institution")
    Group = apps.get_model("auth", "Group")
    with FIXTURE.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            group, _ = Group.objects.get_or_create(name=f"institution:{row['code']}")
            Institution.objects.update_or_create(
                code=row["code"],
                defaults={
                    "name_es": row["name_es"],
                    "name_en": row["name_en"],
                    "kind": row["kind"],
                    "note": row["note"],
                    "group": group,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
