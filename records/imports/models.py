"""The import job: one uploaded file's journey from preview to confirmed write (or cancellation)."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PrivateImportStorage(FileSystemStorage):
    """Uploaded files hold identity data: they live under MEDIA_ROOT/private/imports, outside static files, and
    no URL serves them (the portal serves no media)."""

    @cached_property
    def base_location(self):
        return os.path.join(str(settings.MEDIA_ROOT), "private", "imports")


def _private_storage():
    return PrivateImportStorage()


def _upload_to(job, filename: str) -> str:
    # The stored name never carries the user's file name (it may hold a person's name).
    suffix = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
    return f"{job.institution_id}/{job.token}{suffix}"


class ImportJob(models.Model):
    """One import of a file of applications into one institution: the officer's own, chosen on the server,
    whatever the file says. Counts and errors are of the latest run (preview or write); the progress of a
    running task is also kept in the cache so a reloaded page sees it while the write transaction is open."""

    class Status(models.TextChoices):
        PREVIEWING = "previewing", pgettext_lazy("import job", "Checking the file")
        PREVIEWED = "previewed", pgettext_lazy("import job", "Checked, waiting for confirmation")
        INVALID = "invalid", pgettext_lazy("import job", "The file has errors")
        IMPORTING = "importing", pgettext_lazy("import job", "Importing")
        DONE = "done", pgettext_lazy("import job", "Imported")
        FAILED = "failed", pgettext_lazy("import job", "Not imported")
        CANCELLED = "cancelled", pgettext_lazy("import job", "Cancelled")

    token = models.CharField(max_length=32, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    institution = models.ForeignKey("accounts.Institution", on_delete=models.PROTECT, related_name="+")
    file = models.FileField(storage=_private_storage, upload_to=_upload_to, max_length=200)
    original_name = models.CharField(_("name of the imported file"), max_length=200)
    file_kind = models.CharField(max_length=10)
    size = models.PositiveBigIntegerField(default=0)
    language = models.CharField(max_length=10, default="es")
    status = models.CharField(_("import status"), max_length=20, choices=Status.choices, default=Status.PREVIEWING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    count_new = models.PositiveIntegerField(default=0)
    count_updated = models.PositiveIntegerField(default=0)
    count_unchanged = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    affected_years = models.JSONField(default=list, blank=True)
    cancelled = models.BooleanField(default=False)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")

    def __str__(self) -> str:
        return f"import {self.pk} {self.institution_id} {self.status}"

    @property
    def is_running(self) -> bool:
        return self.status in {self.Status.PREVIEWING, self.Status.IMPORTING}

    @property
    def can_confirm(self) -> bool:
        return self.status == self.Status.PREVIEWED and not self.cancelled

    @property
    def percent(self) -> int:
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0
