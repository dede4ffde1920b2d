"""A report's files (CSV, spreadsheet...) and the annual statistical report's PDF: the same protected figures
as the pages, for this user, each download logged as an export."""

from __future__ import annotations

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import AccessEvent

from .. import annual, catalogue, exports
from .base import _filter_form, can_view_reports


@can_view_reports
def export(request, slug: str, fmt: str):
    if fmt not in exports.FORMATS:
        raise Http404
    try:
        filters = _filter_form(request).filters()
        report = catalogue.build(slug, request.user, filters, request.GET)
    except catalogue.ReportUnavailable as refused:  # invalid filters (InvalidFilters) or an unpublished table
        return HttpResponseBadRequest(str(refused), content_type="text/plain; charset=utf-8")
    access.log_access(request, AccessEvent.Action.EXPORT, object_type="report", object_id=slug, detail=fmt)
    about = exports.describe(report, slug=slug, filters=filters, query=request.GET)
    return exports.respond(report, fmt, about=about)


@can_view_reports
def annual_pdf(request, year: int):
    """The annual statistical report of ``year`` as a PDF (indicators.annual): the same protected figures as
    the pages, for this user; logged as an export. A year without indicators is 404."""
    if year not in catalogue.years():
        raise Http404(_("There are no indicators for that year."))
    report = annual.annual_report_build(year=year, user=request.user)
    pdf = annual.annual_report_pdf(report)
    access.log_access(
        request, AccessEvent.Action.EXPORT, object_type="report", object_id="annual", detail=f"pdf {year}"
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{annual.filename(year)}"'
    return response
