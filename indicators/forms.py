"""Forms of the report pages. Every one is a GET form: the filters live in the address, so a view can be
bookmarked and shared, and the same address rebuilds the same chart and export."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from urllib.parse import urlencode

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Institution
from conatt_portal.forms import AccessibleFormMixin, choice_field

from .reporting import MAX_CROSSTAB_DIMENSIONS, InvalidFilters, TooManyDimensions, check_dimension_count

# Query-string names of the fixed filters; a profile dimension's filter uses the dimension's own key.
YEAR_FROM = "year_from"
YEAR_TO = "year_to"
INSTITUTION = "institution"
FIXED_FILTERS = (YEAR_FROM, YEAR_TO, INSTITUTION)
# Read from the same address as the filters, by the pages' pickers (what to count, dimensions to cross).
MEASURE = "measure"
DIMS = "dims"
# Read by the disaggregation page's ranking controls: rows by published value, and the largest N with the rest
# as one "others" row (``indicators.catalogue.ranking``).
ORDER = "order"
ORDER_BY_VALUE = "value"
TOP = "top"
TOP_CHOICES = ("5", "10", "20")


class GreyableSelect(forms.Select):
    """A select whose choices (all but the empty "Any") can be greyed out: ``greyed`` set by
    :meth:`ReportFilterForm.grey_out_incompatible` when the filter cannot combine with those already chosen."""

    greyed = False

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if self.greyed and value not in ("", None) and not selected:
            option["attrs"]["disabled"] = True
        return option


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


INCOMPATIBLE_WITH = _("Cannot be combined with %(filters)s.")
INCOMPATIBLE_MAX = _("At most three filters can be combined.")


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
    page, its chart and its files refuse them alike rather than fall back to the default). The ranking
    controls' ``order`` and ``top`` are checked the same way, always."""

    year_from = forms.TypedChoiceField(label=_("From year"), required=False, coerce=int, empty_value=None)
    year_to = forms.TypedChoiceField(label=_("To year"), required=False, coerce=int, empty_value=None)
    institution = forms.ChoiceField(label=_("Referring institution"), required=False, widget=GreyableSelect)

    def __init__(
        self,
        *args,
        years: Sequence[int],
        dimensions: Sequence[DimensionChoice],
        measures: Sequence[str] | None = None,
        dimension_names: Sequence[str] | None = None,
        combinable: Collection[str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.measures = measures
        self.dimension_names = dimension_names
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
                widget=GreyableSelect,
            )
            self.dimension_keys.append(dimension.key)
        # The form re-renders with the previous choices; AccessibleFormMixin styled the fields at __init__,
        # so style the dimension fields added after it the same way.
        for name in self.dimension_keys:
            self.fields[name].widget.attrs["class"] = "form-select"
        self.combinable = combinable
        if combinable is not None:
            self.grey_out_incompatible()

    # --- Filters that cannot be combined -----------------------------------------------------------------------

    @property
    def filter_names(self) -> list[str]:
        """The filters that are dimensions of a cell (the institution and every profile dimension or fact)."""
        return [INSTITUTION, *self.dimension_keys]

    def combinations_allowed(self) -> list[str]:
        """Every set of one to three filters that can be chosen together, as ``cell_set_key`` names (sorted,
        joined by "|"): what ``combinable`` (the selectors' rule, passed by the catalogue) allows, for the page's
        script to grey out the same choices as the server when another filter changes."""
        names = sorted(self.filter_names)
        return [
            "|".join(chosen)
            for size in range(1, MAX_CROSSTAB_DIMENSIONS + 1)
            for chosen in combinations(names, size)
            if "|".join(chosen) in (self.combinable or ())
        ]

    def combination_data(self) -> str:
        """What static/js/reports-filters.js needs to grey out the same choices as the server when a filter
        changes: the filters, the combinations allowed and the two reasons, as JSON for a data attribute."""
        if self.combinable is None:
            return ""
        return json.dumps(
            {
                "filters": self.filter_names,
                "allowed": self.combinations_allowed(),
                "max": MAX_CROSSTAB_DIMENSIONS,
                "with": str(INCOMPATIBLE_WITH),
                "too_many": str(INCOMPATIBLE_MAX),
            }
        )

    def chosen_filters(self) -> list[str]:
        """The filters with a value in the address (as sent, before validation)."""
        if not self.is_bound:
            return []
        return [name for name in self.filter_names if self.data.get(name)]

    def incompatibility(self, name: str, chosen: Sequence[str]) -> str:
        """Why the filter ``name`` cannot be added to ``chosen`` ("" when it can): the chosen filters it cannot
        be combined with (those that refuse it alone, else all of them), or the limit of three."""
        others = [c for c in chosen if c != name]
        if not others or "|".join(sorted({name, *others})) in (self.combinable or ()):
            return ""
        if len(others) >= MAX_CROSSTAB_DIMENSIONS:
            return str(INCOMPATIBLE_MAX)
        blocking = [c for c in others if "|".join(sorted({name, c})) not in (self.combinable or ())] or others
        return str(INCOMPATIBLE_WITH) % {"filters": ", ".join(str(self.fields[c].label) for c in blocking)}

    def grey_out_incompatible(self) -> None:
        """Grey out (disabled options, the reason as the field's help text, which aria-describedby points at) each
        filter that cannot be combined with the filters already chosen. The server still refuses such a
        combination if it is sent anyway."""
        chosen = self.chosen_filters()
        for name in self.filter_names:
            if name in chosen:
                continue
            reason = self.incompatibility(name, chosen)
            field = self.fields[name]
            field.widget.greyed = bool(reason)
            field.help_text = reason
            if reason:
                field.widget.attrs["aria-describedby"] = f"id_{self.add_prefix(name)}_helptext"
                field.widget.attrs["data-greyed"] = "true"

    def clean(self):
        super().clean()
        data = self.cleaned_data
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
        if self.data.get(ORDER) not in (None, "", ORDER_BY_VALUE):
            refused.append(str(_("Sort")))
        if self.data.get(TOP) not in (None, "", *TOP_CHOICES):
            refused.append(str(_("Rows shown")))
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
