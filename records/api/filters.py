"""django-filter filter sets of the records API. They narrow querysets that accounts.access has already
limited to what the user may see; they never widen them."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from records.models import Application, Canton, Code, CodeList, Decision, District, Status

MAX_ID = 2**31 - 1


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": MAX_ID})
class IntegerFilter(django_filters.NumberFilter):
    """A whole number from 0 to 2^31-1 (django-filter's NumberFilter accepts decimals, which a year or an id is
    not, and a number beyond the database's integers would fail in the query instead of in validation)."""

    field_class = forms.IntegerField  # type: ignore[assignment]  # the stubs allow only DecimalField here

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class ApplicationFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, help_text=_("One or more statuses."))
    institution = django_filters.CharFilter(field_name="institution__code", help_text=_("Institution code."))
    received_after = django_filters.DateFilter(
        field_name="received_on", lookup_expr="gte", help_text=_("Received on or after (YYYY-MM-DD).")
    )
    received_before = django_filters.DateFilter(
        field_name="received_on", lookup_expr="lte", help_text=_("Received on or before (YYYY-MM-DD).")
    )
    year = IntegerFilter(method="filter_year", help_text=_("Year received."))
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte", help_text=_("Decision due by."))
    case_reference = django_filters.CharFilter(help_text=_("The institution's own case reference (exact)."))
    person = IntegerFilter(field_name="person_id", help_text=_("Person id."))
    sex = django_filters.CharFilter(field_name="sex__code", help_text=_("Sex code."))
    exploitation_form = django_filters.CharFilter(
        field_name="exploitation_forms__code", distinct=True, help_text=_("Form of exploitation code.")
    )

    class Meta:
        model = Application
        fields: list[str] = []

    def filter_year(self, queryset, name, value):
        # Outside the years a date can hold, nothing matches (rather than an error from the date arithmetic).
        if not 1 <= value <= 9998:
            return queryset.none()
        return queryset.filter(received_on__year=value)


class DecisionFilter(django_filters.FilterSet):
    application = IntegerFilter(field_name="application_id", help_text=_("Application id."))
    outcome = django_filters.ChoiceFilter(choices=Decision.Outcome.choices)
    kind = django_filters.ChoiceFilter(choices=Decision.Kind.choices)
    resolution_after = django_filters.DateFilter(field_name="resolution_date", lookup_expr="gte")
    resolution_before = django_filters.DateFilter(field_name="resolution_date", lookup_expr="lte")

    class Meta:
        model = Decision
        fields: list[str] = []


class CodeFilter(django_filters.FilterSet):
    list = django_filters.ChoiceFilter(choices=CodeList.choices, help_text=_("Code list name."))
    active = django_filters.BooleanFilter(help_text=_("Only codes still offered (true) or retired (false)."))

    class Meta:
        model = Code
        fields: list[str] = []


class CantonFilter(django_filters.FilterSet):
    province = django_filters.CharFilter(field_name="province_id", help_text=_("Province code."))

    class Meta:
        model = Canton
        fields: list[str] = []


class DistrictFilter(django_filters.FilterSet):
    canton = django_filters.CharFilter(field_name="canton_id", help_text=_("Canton code."))
    province = django_filters.CharFilter(field_name="canton__province_id", help_text=_("Province code."))

    class Meta:
        model = District
        fields: list[str] = []
