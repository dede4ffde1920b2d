"""Saved views (indicators.saved_views): a named link to a report page with its filters. The user's own list,
the save from a report page and the delete; another user's saved view answers 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import catalogue, saved_views
from ..models import SavedView
from .base import _PAGES, _report_nav, can_view_reports


@can_view_reports
def saved_view_list(request):
    """The user's own saved views: name, report, filters, date, and links to open, copy or delete each."""
    mine = list(saved_views.saved_views_of(user=request.user))
    return render(
        request,
        "indicators/saved_views.html",
        {
            "page_title": _("My saved views"),
            "rows": _saved_view_rows(request, mine),
            "report_nav": _report_nav(""),
        },
    )


@can_view_reports
@require_POST
def saved_view_create(request):
    """Save the report the form was on (``templates/indicators/_save_view.html``) and go back to it, with the
    success or the refusal as a message: the report is never lost, and never left for another address."""
    path, query = request.POST.get("path", ""), request.POST.get("query", "")
    try:
        saved = saved_views.saved_view_create(
            owner=request.user, name=request.POST.get("name", ""), path=path, query=query
        )
    except ValidationError as refused:
        for refusal in refused.messages:
            messages.error(request, refusal)
        return redirect(_back_to_report(path, query))
    messages.success(request, _('The view "%(name)s" was saved. Find it in "My saved views".') % {"name": saved.name})
    return redirect(saved.url)


@can_view_reports
@require_http_methods(["GET", "POST"])
def saved_view_delete(request, pk: int):
    """Delete one of the user's saved views: GET asks for confirmation, POST deletes. Another user's saved view
    answers 404, like one that does not exist."""
    try:
        saved = saved_views.saved_view_of(user=request.user, saved_view_id=pk)
    except SavedView.DoesNotExist:
        raise Http404 from None
    if request.method == "POST":
        try:
            saved_views.saved_view_delete(owner=request.user, saved_view_id=pk)
        except SavedView.DoesNotExist:  # deleted meanwhile (another tab)
            raise Http404 from None
        messages.success(request, _('The saved view "%(name)s" was deleted.') % {"name": saved.name})
        return redirect("indicators:saved_views")
    return render(
        request,
        "indicators/saved_view_delete.html",
        {"page_title": _("Delete a saved view"), "saved": saved, "report": _saved_view_title(saved)},
    )


def _back_to_report(path: str, query: str) -> str:
    """Where a refused save returns: the report, with as much of its address as passes the saved views' own
    checks (so a refusal cannot be turned into a redirect elsewhere); the overview when even the path fails."""
    try:
        path = saved_views.report_path_clean(path)
    except ValidationError:
        return reverse("indicators:dashboard")
    try:
        query = saved_views.report_query_clean(query)
    except ValidationError:
        query = ""
    return f"{path}?{query}" if query else path


def _saved_view_title(saved: SavedView) -> str:
    """The report's title as its page names it, or the path for a page that is no longer a report."""
    try:
        match = resolve(saved.path)
    except Resolver404:
        return saved.path
    if match.url_name == "dimension":
        try:
            return f"{_('Disaggregations')}: {catalogue.dimension_label(match.kwargs['key'])}"
        except catalogue.UnknownReport:
            return saved.path
    return str(dict(_PAGES).get(match.url_name or "", saved.path))


def _saved_view_rows(request, views: list[SavedView]) -> list[dict]:
    """Each saved view with its report's title, its filters in words (the labels of the filter panel) and its
    full address for the copy-link box."""
    if not views:
        return []
    fields = catalogue.filter_form(None).fields
    measures = {m["key"]: m["label"] for m in catalogue.count_measures()}

    def dimension(key: str) -> str:
        try:
            return catalogue.dimension_label(key)
        except KeyError:
            return key

    # In the filter panel's order (years first), then what is counted and crossed, then anything else.
    order = {name: i for i, name in enumerate([*fields, "measure", "dims"])}

    def summary(query: str) -> list[str]:
        parts = []
        for name, values in sorted(QueryDict(query).lists(), key=lambda item: order.get(item[0], len(order))):
            if name in fields:
                choices = dict(getattr(fields[name], "choices", ()))
                parts.append(f"{fields[name].label}: {', '.join(str(choices.get(v, v)) for v in values)}")
            elif name == "measure":
                parts.append(f"{_('What to count')}: {', '.join(str(measures.get(v, v)) for v in values)}")
            elif name == "dims":
                parts.append(f"{_('Dimensions')}: {', '.join(dimension(v) for v in values)}")
            else:
                parts.append(f"{name}: {', '.join(values)}")
        return parts

    return [
        {
            "saved": saved,
            "title": _saved_view_title(saved),
            "filters": summary(saved.query),
            "link": request.build_absolute_uri(saved.url),
        }
        for saved in views
    ]
