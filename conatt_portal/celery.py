"""The Celery app. Tasks take primary keys, are idempotent and are queued on commit (STYLE.md)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conatt_portal.settings")

app = Celery("conatt_portal")
# Every CELERY_* setting in settings.py configures the app: JSON only, late acknowledgement with rejection on
# worker loss, prefetch 1, and in-process execution when no broker is configured.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
