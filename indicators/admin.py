"""Admin pages of the indicator engine: the run history (read-only) with a button to start a full rebuild,
and the outbox of years waiting to be recomputed. Admins see no case data here: runs hold years and counts."""

import logging

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access
from conatt_portal.admin import ReadOnlyAdmin
from records.scopes import scopes_disabled

from . import services, tasks
from .models import PendingRecompute, RecomputeRun

logger = logging.getLogger(__name__)


@admin.register(RecomputeRun)
class RecomputeRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "kind", "outcome", "duration_seconds", "rows_written", "years_display", "trigger"]
    list_filter = ["kind", "outcome"]
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in RecomputeRun._meta.fields]
    change_list_template = "admin/indicators/recomputerun/change_list.html"

    @admin.display(description=gettext_lazy("years"))
    def years_display(self, obj: RecomputeRun) -> str:
        years = obj.years or []
        if len(years) > 3:
            return f"{years[0]}–{years[-1]}"
        return ", ".join(str(y) for y in years)

    def get_urls(self):
        return [
            path(
                "rebuild/",
                self.admin_site.admin_view(self.rebuild_view),
                name="indicators_recomputerun_rebuild",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        from .selectors import data_as_of

        extra_context = {
            **(extra_context or {}),
            "data_as_of": data_as_of(),
            "pending_years": services.pending_years(),
            "pending_marks": services.pending_marks(),
        }
        return super().changelist_view(request, extra_context=extra_context)

    def rebuild_view(self, request):
        """Start a full rebuild: queued for a worker, or run here in the embedded mode (no broker)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not access.can_administer(request.user):
            raise PermissionDenied
        changelist = reverse("admin:indicators_recomputerun_changelist")
        trigger = f"admin:{request.user.pk}"
        if settings.CELERY_TASK_ALWAYS_EAGER:
            try:
                with scopes_disabled():  # the recompute reads every record, for no user (records/scopes.py)
                    run = services.recompute_full(trigger=trigger)
            except Exception:
                logger.exception("Full indicator rebuild from the admin failed")
                messages.error(request, _("The full rebuild failed; its error is in the run history."))
            else:
                messages.success(
                    request, _("Full rebuild finished in %(seconds)s s.") % {"seconds": run.duration_seconds}
                )
            return HttpResponseRedirect(changelist)
        try:
            tasks.recompute_full.apply_async(kwargs={"trigger": trigger}, retry=False)
        except Exception:
            logger.warning("Could not queue a full indicator rebuild", exc_info=True)
            messages.error(request, _("The task queue is unreachable; the nightly rebuild will run when it is back."))
        else:
            messages.success(request, _("Full rebuild queued; it appears in this list when a worker starts it."))
        return HttpResponseRedirect(changelist)


@admin.register(PendingRecompute)
class PendingRecomputeAdmin(ReadOnlyAdmin):
    list_display = ["marked_at", "year", "application_id"]
    list_filter = ["year"]
