"""Serializers of the records API's import jobs (records/api/imports.py): the upload, and a job with its
progress, counts and errors. They translate only; the import's rules are records.imports.services'."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("A .xlsx or .csv file made from the import template."))
    institution = serializers.CharField(
        required=False,
        help_text=_("Only for officers of several institutions: the code of one of their institutions."),
    )


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text=_("Row of the file (0: the file as a whole)."))
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField()
    text = serializers.CharField(help_text=_("The whole message, in the language of the upload."))


class ImportProgressSerializer(serializers.Serializer):
    phase = serializers.CharField(
        help_text=_("The step of a running job: waiting, validating, comparing, writing, saving, recomputing.")
    )
    phase_label = serializers.CharField(help_text=_("The step's name, in the language of the request."))
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class ImportJobSerializer(serializers.Serializer):
    """An import job: the dry run's counts and errors, then the write's outcome."""

    id = serializers.IntegerField()
    institution = serializers.CharField(source="institution.code")
    status = serializers.CharField(help_text=_("previewing, previewed, invalid, importing, done, failed, cancelled"))
    status_label = serializers.CharField(source="get_status_display")
    can_confirm = serializers.BooleanField()
    original_name = serializers.CharField()
    file_kind = serializers.CharField()
    size = serializers.IntegerField()
    rows_total = serializers.IntegerField()
    count_new = serializers.IntegerField()
    count_updated = serializers.IntegerField()
    count_unchanged = serializers.IntegerField()
    error_count = serializers.IntegerField()
    errors = ImportErrorSerializer(many=True)  # type: ignore[assignment]  # a declared field (see CodeSerializer)
    progress = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(ImportProgressSerializer)
    def get_progress(self, job) -> dict:
        from records.imports import services as import_services

        progress = import_services.progress_read(job=job)
        return {**progress, "phase_label": import_services.phase_label(progress["phase"])}
