"""One "No registrado" per code list. Each list's code labelled "No registrado" (or "Not recorded") is marked as
meaning "not recorded", so the indicators count it with the blank (one "No registrado" row, not two) and the
data-quality page counts it as missing. Where a list holds several such codes (an admin's duplicate), they are
merged into the first (by order, then code): every application, many-to-many row and population row that named a
duplicate is repointed to the one kept, and the duplicate is retired with a note, never deleted, so no record is
lost and old history rows still read."""

from django.db import migrations

from records.reference import means_not_recorded

# Code list -> the Application fields (foreign keys, many-to-many) that hold its codes.
FIELDS_OF_LIST = {
    "exploitation_form": ["exploitation_forms"],
    "sexual_exploitation_type": ["sexual_exploitation_types"],
    "labour_sector": ["labour_sectors"],
    "means": ["means"],
    "act": ["acts"],
    "recruitment_method": ["recruitment_methods"],
    "control_method": ["control_methods"],
    "relationship_to_trafficker": ["relationship_to_trafficker"],
    "sex": ["sex"],
    "gender_identity": ["gender_identity"],
    "migration_status": ["migration_status"],
    "education_level": ["education_level"],
    "occupation": ["occupation"],
}
POPULATION_FIELDS_OF_LIST = {"sex": "sex", "age_group": "age_group"}


def _repoint(apps, list_name: str, keep, duplicates) -> None:
    Application = apps.get_model("records", "Application")
    Population = apps.get_model("records", "Population")
    ids = [d.pk for d in duplicates]
    for name in FIELDS_OF_LIST.get(list_name, []):
        field = Application._meta.get_field(name)
        if field.many_to_many:
            through = field.remote_field.through
            target = field.m2m_reverse_field_name()
            rows = through.objects.filter(**{f"{target}_id__in": ids})
            having = set(through.objects.filter(**{f"{target}_id": keep.pk}).values_list("application_id", flat=True))
            # An application that already has the code kept loses only the duplicate link, not the fact.
            rows.filter(application_id__in=having).delete()
            rows.update(**{f"{target}_id": keep.pk})
        else:
            Application.objects.filter(**{f"{name}_id__in": ids}).update(**{f"{name}_id": keep.pk})
    population_field = POPULATION_FIELDS_OF_LIST.get(list_name)
    if population_field:
        for row in Population.objects.filter(**{f"{population_field}_id__in": ids}):
            twin = Population.objects.filter(
                year=row.year, **{f"{f}_id": (keep.pk if f == population_field else getattr(row, f"{f}_id"))
                                  for f in ("sex", "age_group")}
            ).first()  # fmt: skip
            if twin is None:
                setattr(row, f"{population_field}_id", keep.pk)
                row.save(update_fields=[population_field])
            else:
                # The same cell under the code kept: one population figure, the larger (the other was a duplicate).
                twin.population = max(twin.population, row.population)
                twin.save(update_fields=["population"])
                row.delete()


def merge(apps, schema_editor):
    Code = apps.get_model("records", "Code")
    by_list: dict[str, list] = {}
    for code in Code.objects.order_by("list", "sort_order", "code"):
        if means_not_recorded(code.label_es, code.label_en):
            by_list.setdefault(code.list, []).append(code)
    for list_name, codes in by_list.items():
        keep, duplicates = codes[0], codes[1:]
        Code.objects.filter(pk=keep.pk).update(means_not_recorded=True, active=True)
        if duplicates:
            _repoint(apps, list_name, keep, duplicates)
            for duplicate in duplicates:
                Code.objects.filter(pk=duplicate.pk).update(
                    active=False, note=f"merged into {keep.code}"[:300], means_not_recorded=True
                )


class Migration(migrations.Migration):
    dependencies = [("records", "0009_code_means_not_recorded")]
    operations = [migrations.RunPython(merge, migrations.RunPython.noop)]
