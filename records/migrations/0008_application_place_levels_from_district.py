"""Fill the new province and canton of each place from its district, so that every stored place carries all its
levels consistently (the district's canton and the canton's province). No record is dropped or changed otherwise:
a place with no district keeps no province and canton (none was ever stored: the form used to drop them). The
history rows are filled the same way, so the next save of an application does not show the levels as a change."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    District = apps.get_model("records", "District")
    for model_name in ("Application", "HistoricalApplication"):
        model = apps.get_model("records", model_name)
        for place in ("recruitment", "residence"):
            district = OuterRef(f"{place}_district_id")
            model.objects.filter(**{f"{place}_district_id__isnull": False}).update(
                **{
                    f"{place}_canton_id": Subquery(District.objects.filter(code=district).values("canton_id")[:1]),
                    f"{place}_province_id": Subquery(
                        District.objects.filter(code=district).values("canton__province_id")[:1]
                    ),
                }
            )


class Migration(migrations.Migration):
    dependencies = [("records", "0007_application_place_levels")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
