"""Forms of the report pages. Every one is a GET form: the filters live in the address, so a view can be
bookmarked and shared, and the same address rebuilds the same chart and export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Institution
from conatt_portal.forms import AccessibleFormMixin, choice_field

from .reporting import MAX_CROSSTAB_DIMENSIONS, TooManyDimensions, check_dimension_count

# Query-string names of the fixed filters; a profile dimension's filter uses the dimension's own key.
YEAR_FROM = "year_from"
YEAR_TO = "year_to"
INSTITUTION = "institution"
FIXED_FILTERS = (YEAR_FROM, YEAR_TO, INSTITUTION)


@dataclass(frozen=True)
class DimensionChoice:
    """A profile dimension as the forms offer it: its key (also its query-string name), label and values."""

    key: str
    label: str
    values: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class Filters:
    """What a report page was asked for, after validation. ``values`` maps a dimension key to one value."""

    year_from: int | None = None
    year_to: int | None = None
    institution: str | None = None
    values: dict[str, str] = field(default_factory=dict)

    def as_query(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        if self.year_from is not None:
            pairs.append((YEAR_FROM, str(self.year_from)))
        if self.year_to is not None:
            pairs.append((YEAR_TO, str(self.year_to)))
        if self.institution:
            pairs.append((INSTITUTION, self.institution))
        pairs.extend(sorted(self.values.items()))
        return pairs

    def querystring(self) -> str:
        return urlencode(self.as_query())

    @property
    def active_count(self) -> int:
        return len(self.as_query())

    def dimension_filters(self) -> dict[str, str]:
        return dict(self.values)


class ReportFilterForm(AccessibleFormMixin, forms.Form):
    """Year range, institution and one value of any profile dimension. Unknown values are errors in the
    user's language, never silently dropped (a bookmarked view must mean what it says)."""

    year_from = forms.TypedChoiceField(label=_("From year"), required=False, coerce=int, empty_value=None)
    year_to = forms.TypedChoiceField(label=_("To year"), required=False, coerce=int, empty_value=None)
    institution = forms.ChoiceField(label=_("Referring institution"), required=False)

    def __init__(self, *args, years: Sequence[int], dimensions: Sequence[DimensionChoice], **kwargs):
        super().__init__(*args, **kwargs)
        year_choices = [("", _("Any"))] + [(str(y), str(y)) for y in years]
        choice_field(self, "year_from").choices = year_choices
        choice_field(self, "year_to").choices = year_choices
        institutions = Institution.objects.filter(kind=Institution.Kind.REPORTING).order_by("code")
        choice_field(self, "institution").choices = [("", _("All institutions"))] + [
            (i.code, f"{i.code} – {i.name}") for i in institutions
        ]
        self.dimension_keys = []
        for dimension in dimensions:
            if dimension.key in FIXED_FILTERS or not dimension.values:
                continue
            self.fields[dimension.key] = forms.ChoiceField(
                label=dimension.label,
                required=False,
                choices=[("", _("Any"))] + [(str(v), str(label)) for v, label in dimension.values],
            )
            self.dimension_keys.append(dimension.key)
        # The form re-renders with the previous choices; AccessibleFormMixin styled the fields at __init__,
        # so style the dimension fields added after it the same way.
        for name in self.dimension_keys:
            self.fields[name].widget.attrs["class"] = "form-select"

    def clean(self):
        super().clean()
        data = self.cleaned_data
        year_from, year_to = data.get("year_from"), data.get("year_to")
        if year_from is not None and year_to is not None and year_from > year_to:
            raise forms.ValidationError(_("The first year must not be after the last year."), code="year_order")
        return data

    def filters(self) -> Filters:
        """The validated filters; an invalid form gives no filters at all rather than a partial view."""
        if not self.is_valid():
            return Filters()
        data = self.cleaned_data
        return Filters(
            year_from=data.get("year_from"),
            year_to=data.get("year_to"),
            institution=data.get("institution") or None,
            values={key: data[key] for key in self.dimension_keys if data.get(key)},
        )


class IntersectionForm(AccessibleFormMixin, forms.Form):
    """Two or three dimensions to cross. A fourth is refused with the reason (DOMAIN.md: cross-tabs combine at
    most three dimensions)."""

    dims = forms.MultipleChoiceField(
        label=_("Dimensions to cross"),
        required=True,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Pick two or three. The first ones become rows, the last one the columns."),
    )

    def __init__(self, *args, dimensions: Sequence[DimensionChoice], **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "dims").choices = [(d.key, d.label) for d in dimensions]
        self.fields["dims"].widget.attrs["class"] = "form-check-input"
        self.max_dimensions = MAX_CROSSTAB_DIMENSIONS

    def clean_dims(self):
        dims = self.cleaned_data["dims"]
        # Keep the order of the query string: the person chose which dimension goes where.
        ordered = [d for d in self.data.getlist("dims") if d in dims] if hasattr(self.data, "getlist") else dims
        ordered = list(dict.fromkeys(ordered))
        if len(ordered) < 2:
            raise forms.ValidationError(_("Pick at least two dimensions to cross."), code="too_few")
        try:
            check_dimension_count(ordered)
        except TooManyDimensions as refused:
            raise forms.ValidationError(str(refused), code="too_many") from None
        return ordered
