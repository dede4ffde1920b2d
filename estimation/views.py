"""The page "Víctimas no identificadas (estimación)", its progress poll and its exports. Thin: access first
(accounts.access), then one service or selector, then estimation.reporting assembles what the user may see."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import access
from accounts.models import AccessEvent

from . import exports, reporting, selectors, services
from .forms import PeriodForm, RunForm

can_view = access.require(access.can_view_estimates)
can_run = access.require(access.can_run_estimation)


def _default_period(years: list[int]) -> dict:
    if not years:
        return {}
    return {"year_from": str(max(years[0], years[-1] - 4)), "year_to": str(years[-1])}


@require_GET
@can_view
def page(request):
    services.estimation_runs_sweep_embedded()
    years = selectors.years_with_records()
    data = request.GET if "year_from" in request.GET else _default_period(years)
    period = PeriodForm(data or None, years=years)
    run = None
    if request.GET.get("run"):
        run = access.get_estimation_run(request.user, request.GET["run"])
    elif period.is_valid():
        run = selectors.latest_run(request.user, **period.cleaned_data)
    if run is not None and not period.is_bound:
        period = PeriodForm({"year_from": run.year_from, "year_to": run.year_to}, years=years)
    report = reporting.run_report(run, request.user) if run is not None else None
    stale = bool(
        run is not None
        and run.is_finished
        and run.records_stamp != selectors.records_stamp(year_from=run.year_from, year_to=run.year_to)
    )
    run_form = None
    if access.can_run_estimation(request.user):
        initial = {**(period.cleaned_data if period.is_valid() else {})}
        run_form = RunForm(initial=initial, years=years)
    context = {
        "years": years,
        "period_form": period,
        "run_form": run_form,
        "run": run,
        "report": report,
        "stale": stale,
        "sees_histories": access.can_see_capture_histories(request.user),
        "chart": json.dumps(reporting.chart_data(report)) if report and report["groups"] else "",
        "recent_runs": selectors.recent_runs(request.user) if run_form is not None else [],
    }
    return render(request, "estimation/page.html", context)


@require_POST
@can_run
def run(request):
    years = selectors.years_with_records()
    form = RunForm(request.POST, years=years)
    if not form.is_valid():
        messages.error(request, _("The estimation was not started: correct the fields below."))
        period = PeriodForm(request.POST, years=years)
        context = {"years": years, "period_form": period, "run_form": form, "run": None, "report": None}
        return render(request, "estimation/page.html", context, status=400)
    data = form.cleaned_data
    estimate_run, created = services.estimation_request(
        user=request.user,
        year_from=data["year_from"],
        year_to=data["year_to"],
        merge=data["merge"],
        min_list_size=data["min_list_size"],
        replications=data["replications"],
        seed=data["seed"],
        p_threshold=data["p_threshold"],
        interval_method=data["interval_method"],
    )
    if not created:
        messages.info(request, _("The records of this period have not changed since this run: its result is shown."))
    return redirect(f"{reverse('estimation:page')}?run={estimate_run.pk}")


@require_GET
@can_view
def progress(request, pk):
    services.estimation_runs_sweep_embedded()
    run = access.get_estimation_run(request.user, pk)
    return JsonResponse({"status": run.status, "progress": run.progress, "finished": run.is_finished})


@require_GET
@can_view
def export(request, pk, fmt):
    if fmt not in exports.FORMATS:
        raise Http404
    run = access.get_estimation_run(request.user, pk)
    report = reporting.run_report(run, request.user)
    access.log_access(request, AccessEvent.Action.EXPORT, obj=run, detail=f"estimation {fmt}")
    return exports.response(report, fmt)
