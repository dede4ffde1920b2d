"""Merge of two branches' 0003 migrations (records: queue index; imports: ImportJob), added by wt-security when
it merged every branch to run the whole-project tests. No operations; the lead may renumber instead."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0003_application_open_queue_index"),
        ("records", "0003_importjob"),
    ]

    operations = []
