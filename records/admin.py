"""Admin pages for reference data (code lists with their crosswalks, geography, languages, population) and
read-only views of resolutions and case-sharing grants.

Applications, people and identity data are deliberately not registered: an admin reads no case by being admin
(separation of duties). Sharing is granted and revoked on records:application_sharing, which is audited.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from conatt_portal.admin import PortalModelAdmin, ReadOnlyAdmin

from .models import ApplicationGroupObjectPermission, Canton, Code, Decision, District, Language, Population, Province


@admin.register(Code)
class CodeAdmin(PortalModelAdmin, SimpleHistoryAdmin):
    """Admins add, relabel and retire codes. A code is never deleted: old records keep pointing at it, so it is
    retired (``active`` off) and stops being offered in forms."""

    list_display = [
        "list",
        "code",
        "label_es",
        "label_en",
        "iccs",
        "htcds",
        "sort_order",
        "active",
        "means_not_recorded",
    ]
    list_filter = ["list", "active", "means_not_recorded"]
    list_editable = ["sort_order", "active"]
    search_fields = ["code", "label_es", "label_en", "iccs", "htcds"]
    ordering = ["list", "sort_order", "code"]

    def get_readonly_fields(self, request, obj=None):
        # The list and code identify the value in records and exports; an existing code is relabelled, not moved.
        return ["list", "code"] if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Province)
class ProvinceAdmin(PortalModelAdmin):
    list_display = ["code", "name", "iso_3166_2"]
    search_fields = ["code", "name"]


@admin.register(Canton)
class CantonAdmin(PortalModelAdmin):
    list_display = ["code", "name", "province"]
    list_filter = ["province"]
    search_fields = ["code", "name"]


@admin.register(District)
class DistrictAdmin(PortalModelAdmin):
    list_display = ["code", "name", "canton", "province"]
    list_filter = ["canton__province"]
    search_fields = ["code", "name", "canton__name"]
    list_select_related = ["canton__province"]

    @admin.display(description=_("province"), ordering="canton__province")
    def province(self, obj):
        return obj.canton.province


@admin.register(Language)
class LanguageAdmin(PortalModelAdmin):
    list_display = ["code", "iso639_1", "name_es", "name_en", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name_es", "name_en"]


@admin.register(Population)
class PopulationAdmin(PortalModelAdmin):
    list_display = ["year", "sex", "age_group", "population", "source"]
    list_filter = ["year", "sex"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    """Resolutions, read-only: who recorded what and when. The reasons (which may describe the person) and the
    case's data are not shown here."""

    list_display = [
        "resolution_number",
        "resolution_date",
        "kind",
        "outcome",
        "votes_in_favour",
        "votes_against",
        "abstentions",
        "application_id",
        "recorded_by",
        "recorded_at",
    ]
    list_filter = ["kind", "outcome"]
    search_fields = ["resolution_number"]
    date_hierarchy = "resolution_date"
    fields = readonly_fields = (
        "resolution_number",
        "resolution_date",
        "kind",
        "supersedes",
        "outcome",
        "votes_in_favour",
        "votes_against",
        "abstentions",
        "application_id",
        "recorded_by",
        "recorded_at",
    )
    list_select_related = ["recorded_by"]


@admin.register(ApplicationGroupObjectPermission)
class CaseSharingAdmin(ReadOnlyAdmin):
    """Which institutions were granted which cases. Grants and revokes are made on the case's sharing page, which
    records each in the audit log."""

    list_display = ["content_object_id", "group", "permission", "manage"]
    list_filter = ["group"]
    search_fields = ["content_object_id"]
    list_select_related = ["group", "permission"]

    @admin.display(description=_("manage"))
    def manage(self, obj):
        url = reverse("records:application_sharing", args=[obj.content_object_id])
        return format_html('<a href="{}">{}</a>', url, _("Who can see this case"))
