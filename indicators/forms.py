"""Forms of the report pages. Every one is a GET form: the filters live in the address, so a view can be
bookmarked and shared, and the same address rebuilds the same chart and export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Institution
from conatt_portal.forms import AccessibleFormMixin

from .reporting import MAX_CROSSTAB_DIMENSIONS, InvalidFilters, TooManyDimensions, check_dimension_count

# Query-string names of the fixed filters; a profile dimension's filter uses the dimension's own key.
YEAR_FROM = "year_from"
YEAR_TO = "year_to"
INSTITUTION = "institution"
FIXED_FILTERS = (YEAR_FROM, YEAR_TO, INSTITUTION)
# Read from the same address as the filters, by the pages' pickers (what to count, dimensions to cross).
MEASURE = "measure"
DIMS = "dims"


def refusal_message(names: Sequence[str], other_errors: Sequence[str] = ()) -> str:
    """The one sentence every output (page, chart data, CSV, XLSX, API) gives for invalid filters: the filters
    by their labels, never the values sent (a value in an address can be a megabyte long, or reorder the
    sentence with a right-to-left override), and that no figure is shown until they are corrected."""
    parts = []
    if names:
        parts.append(_("Invalid filters: %(filters)s.") % {"filters": ", ".join(str(n) for n in names)})
    parts.extend(str(e) for e in other_errors)
    parts.append(str(_("No figures are shown until the filters are corrected or removed.")))
    return " ".join(parts)


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

    def restricted_to(self, names: frozenset[str] | None) -> Filters:
        """The filters a report applies: the years always, the institution and the dimensions only where
        ``names`` holds them (``None``: every filter applies)."""
        if names is None:
            return self
        return Filters(
            year_from=self.year_from,
            year_to=self.year_to,
            institution=self.institution if INSTITUTION in names else None,
            values={key: value for key, value in self.values.items() if key in names},
        )

    def left_out(self, names: frozenset[str] | None) -> list[tuple[str, str]]:
        """The (name, value) pairs set in the address that a report applying only ``names`` leaves out."""
        if names is None:
            return []
        kept = set(self.restricted_to(names).as_query())
        return [pair for pair in self.as_query() if pair not in kept]


class ReportFilterForm(AccessibleFormMixin, forms.Form):
    """Year range, institution and one value of any profile dimension. Unknown values are errors in the
    user's language, never silently dropped (a bookmarked view must mean what it says): :meth:`filters` raises
    :class:`InvalidFilters` with :meth:`refusal`, and no output publishes a figure for them.

    ``measures`` and ``dimension_names``, when given, are the choices of the address's ``measure`` and
    ``dims`` (read by the pages' own pickers, so not fields of this form: they are checked here so that a
    page, its chart and its files refuse them alike rather than fall back to the default)."""

    year_from = forms.TypedChoiceField(label=_("From year"), required=False, coerce=int, empty_value=None)
    year_to = forms.TypedChoiceField(label=_("To year"), required=False, coerce=int, empty_value=None)
    institution = forms.ChoiceField(label=_("Referring institution"), required=False)

    def __init__(
        self,
        *args,
        years: Sequence[int],
        dimensions: Sequence[DimensionChoice],
        measures: Sequence[str] | None = None,
        dimension_names: Sequence[str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.measures = measures
        self.dimension_names = dimension_names
        year_choices = [("", _("Any"))] + [(str(y), str(y)) for y in years]
        self.fields["year_from"].choices = year_choices
        self.fields["year_to"].choices = year_choices
        institutions = Institution.objects.filter(kind=Institution.Kind.REPORTING).order_by("code")
        self.fields["institution"].choices = [("", _("All institutions"))] + [
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
        data = super().clean()
        year_from, year_to = data.get("year_from"), data.get("year_to")
        if year_from is not None and year_to is not None and year_from > year_to:
            raise forms.ValidationError(_("The first year must not be after the last year."), code="year_order")
        return data

    def _picker_errors(self) -> list[str]:
        """Labels of the pickers (what to count, dimensions to cross) whose values are not among the choices."""
        if not self.is_bound:
            return []
        refused = []
        if self.measures is not None:
            measure = self.data.get(MEASURE)
            if measure and measure not in self.measures:
                refused.append(str(_("What to count")))
        if self.dimension_names is not None:
            dims = self.data.getlist(DIMS) if hasattr(self.data, "getlist") else self.data.get(DIMS, [])
            if isinstance(dims, str):
                dims = [dims]
            if any(d not in self.dimension_names for d in dims):
                refused.append(str(_("Dimensions to cross")))
        return refused

    def full_clean(self):
        super().full_clean()
        pickers = self._picker_errors()
        if pickers:
            # The pickers are not fields of this form: their refusal is shown above its fields.
            message = _("Invalid filters: %(filters)s.") % {"filters": ", ".join(pickers)}
            self.add_error(None, forms.ValidationError(message, code="picker"))

    def refusal(self) -> str:
        """Why the filters are refused, in the user's language: the invalid filters by their labels (never the
        values sent), the order of the years if that is what is wrong."""
        names = [str(self.fields[name].label) for name in self.errors if name in self.fields]
        names += self._picker_errors()
        others = [e for e in self.non_field_errors().as_data() if e.code == "year_order"]
        return refusal_message(names, [" ".join(e.messages) for e in others])

    def filters(self) -> Filters:
        """The validated filters (none for a form without data); invalid ones raise :class:`InvalidFilters`
        with :meth:`refusal`, rather than give the unfiltered table."""
        if not self.is_bound:
            return Filters()
        if not self.is_valid():
            raise InvalidFilters(self.refusal())
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
        self.fields["dims"].choices = [(d.key, d.label) for d in dimensions]
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
