"""Admin page of estimation runs: read-only, and without the inputs and result (the capture-history counts are
for coordinators, and admins read no statistics by being admin): who asked, the period, status and timing."""

from django.contrib import admin

from conatt_portal.admin import ReadOnlyAdmin

from .models import EstimationRun


@admin.register(EstimationRun)
class EstimationRunAdmin(ReadOnlyAdmin):
    list_display = ["requested_at", "year_from", "year_to", "status", "progress", "duration_seconds", "replications"]
    list_filter = ["status"]
    fields = readonly_fields = (
        "requested_by",
        "requested_at",
        "year_from",
        "year_to",
        "replications",
        "seed",
        "p_threshold",
        "interval_method",
        "status",
        "progress",
        "started_at",
        "finished_at",
        "duration_seconds",
        "error",
    )
