"""The narrowing selects of the application form (static/js/records-geo.js): the cantons of a province and the
districts of a canton, as JSON or as <option> elements. Reference data, for the roles that read records."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .forms import canton_choices, district_choices
from .models import Canton, Province
from .views import case_roles


def _options(request, choices):
    """JSON for records-geo.js, or <option> elements for whoever asks for HTML."""
    flat: list[dict[str, str]] = []
    for value, label in choices:
        if isinstance(label, list | tuple):
            flat.extend({"value": v, "label": lbl, "group": value} for v, lbl in label)
        else:
            flat.append({"value": value, "label": label})
    if request.GET.get("format") == "html":
        return render(request, "records/options.html", {"options": flat})
    return JsonResponse({"options": flat})


@case_roles
@require_GET
def cantons_for_province(request):
    province = request.GET.get("province", "")
    if province and not Province.objects.filter(code=province).exists():
        province = ""
    return _options(request, canton_choices(province or None))


@case_roles
@require_GET
def districts_for_canton(request):
    canton = request.GET.get("canton", "")
    if canton and not Canton.objects.filter(code=canton).exists():
        canton = ""
    province = request.GET.get("province", "")
    return _options(request, district_choices(canton=canton or None, province=province or None))
