"""Forms of the estimation page: the period shown (anyone who may see estimates) and a coordinator's request
for a run (period, lists to merge, bootstrap settings). Errors in the user's language."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Institution
from conatt_portal.forms import AccessibleFormMixin, choice_field

from .codes import BCA, PERCENTILE


class PeriodForm(AccessibleFormMixin, forms.Form):
    year_from = forms.TypedChoiceField(label=_("From year"), coerce=int)
    year_to = forms.TypedChoiceField(label=_("To year"), coerce=int)

    def __init__(self, *args, years: Sequence[int], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(y), str(y)) for y in years]
        choice_field(self, "year_from").choices = choices
        choice_field(self, "year_to").choices = choices

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        year_from, year_to = cleaned.get("year_from"), cleaned.get("year_to")
        if year_from is not None and year_to is not None and year_from > year_to:
            raise ValidationError(_("The first year must not be after the last year."))
        return cleaned


class RunForm(PeriodForm):
    merge = forms.MultipleChoiceField(
        label=_("Institutions counted as one list"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Choose two or more institutions whose referrals should form a single list."),
    )
    min_list_size = forms.IntegerField(
        label=_("Merge lists with fewer persons than"),
        min_value=0,
        max_value=100_000,
        initial=30,
        help_text=_("Institutions that referred fewer persons in the period are merged into one list."),
    )
    replications = forms.IntegerField(label=_("Bootstrap replications"), min_value=100, max_value=5000, initial=1000)
    seed = forms.IntegerField(label=_("Random seed"), min_value=0, max_value=2**31 - 1, initial=2024)
    p_threshold = forms.FloatField(
        label=_("p-value threshold for adding an interaction"), min_value=0.0001, max_value=0.5, initial=0.02
    )
    interval_method = forms.ChoiceField(
        label=_("Interval"),
        choices=[(BCA, _("Bias-corrected and accelerated (BCa)")), (PERCENTILE, _("Percentile"))],
        initial=BCA,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        institutions = Institution.objects.filter(kind=Institution.Kind.REPORTING).order_by("code")
        choice_field(self, "merge").choices = [(i.code, f"{i.code} – {i.name}") for i in institutions]

    def clean_merge(self):
        merge = self.cleaned_data["merge"]
        if len(merge) == 1:
            raise ValidationError(_("Choose at least two institutions to merge, or none."))
        return merge
