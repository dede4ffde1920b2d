"""Shapes of the indicators API. Every count leaves as a protected cell (indicators.disclosure via
indicators.reporting): ``display`` is what to show ("12", "0", "<5"), ``value`` the number or null when
hidden, ``status`` why."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext
from rest_framework import serializers

from indicators import dimensions
from indicators.catalogue import COUNT_MEASURES, DEFAULT_MEASURE
from indicators.forms import ORDER_BY_VALUE, TOP_CHOICES


class ProtectedCellSerializer(serializers.Serializer):
    value = serializers.IntegerField(allow_null=True, help_text=_("The count, or null when it is hidden."))
    display = serializers.CharField(help_text=_('What to show: the count, or "<k" for a value from 1 to k-1.'))
    status = serializers.ChoiceField(
        choices=[("shown", "shown"), ("primary", "primary"), ("blank", "blank")],
        help_text=_(
            "shown; primary: a value from 1 to k-1 after perturbation (the cell key method); blank: no figure "
            "here (the total of a stock over the years)."
        ),
    )


class MeasureSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # see records.api.serializers.CodeSerializer
    definition = serializers.CharField(help_text=_("What counts, and which date places a case in a year."))


class DimensionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    kind = serializers.CharField()
    multi_valued = serializers.BooleanField(
        help_text=_("An application may hold several values; its count then appears under each of them.")
    )


class CatalogueSerializer(serializers.Serializer):
    data_as_of = serializers.DateTimeField(
        allow_null=True, help_text=_("When the records behind the figures were read.")
    )
    years = serializers.ListField(child=serializers.IntegerField())
    disclosure_threshold = serializers.IntegerField(help_text=_('k: counts from 1 to k-1 are shown as "<k".'))
    exact = serializers.BooleanField(help_text=_("Whether you see exact counts (coordinators)."))
    measures = MeasureSerializer(many=True)
    dimensions = DimensionSerializer(many=True)


class CodeLabelSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_('"" means "not recorded".'))
    label = serializers.CharField()  # type: ignore[assignment]


class DimensionValuesSerializer(DimensionSerializer):
    values = CodeLabelSerializer(many=True)


class RowSerializer(serializers.Serializer):
    key = serializers.ListField(child=serializers.CharField(), help_text=_("One code per row dimension."))
    labels = serializers.ListField(child=serializers.CharField())
    cells = ProtectedCellSerializer(many=True)
    total = ProtectedCellSerializer()


class TableSerializer(serializers.Serializer):
    measure = MeasureSerializer()
    row_dimensions = serializers.ListField(child=serializers.CharField())
    column_dimension = serializers.CharField(allow_null=True)
    columns = CodeLabelSerializer(many=True)
    rows = RowSerializer(many=True)
    column_totals = ProtectedCellSerializer(many=True)
    grand_total = ProtectedCellSerializer()
    additive = serializers.BooleanField(
        help_text=_(
            "False when a multi-valued dimension is involved: an application counted under several values "
            "makes the cells add up to more than the total of applications."
        )
    )
    year_from = serializers.IntegerField(allow_null=True)
    year_to = serializers.IntegerField(allow_null=True)
    filters = serializers.DictField(child=serializers.CharField())
    disclosure_threshold = serializers.IntegerField()
    exact = serializers.BooleanField()
    data_as_of = serializers.DateTimeField(allow_null=True)


class _QuerySerializer(serializers.Serializer):
    measure = serializers.ChoiceField(choices=sorted(dimensions.MEASURES), default="accredited")
    year_from = serializers.IntegerField(required=False, min_value=1900, max_value=2999)
    year_to = serializers.IntegerField(required=False, min_value=1900, max_value=2999)


class ByYearQuerySerializer(_QuerySerializer):
    pass


class CrosstabQuerySerializer(_QuerySerializer):
    dims = serializers.CharField(
        help_text=_("1 to 3 dimension names separated by commas; the last one gives the columns."),
    )

    def validate_dims(self, value):
        names = [n.strip() for n in value.split(",") if n.strip()]
        unknown = [n for n in names if n not in dimensions.DIMENSIONS]
        if unknown:
            raise serializers.ValidationError(
                pgettext("api", "Unknown dimension: %(name)s.") % {"name": ", ".join(unknown)}
            )
        if not names:
            raise serializers.ValidationError(pgettext("api", "Choose at least one dimension."))
        return names


class ChangeSerializer(serializers.Serializer):
    value = serializers.IntegerField(
        allow_null=True, help_text=_("The change from the previous year, or null when hidden or first.")
    )
    display = serializers.CharField(help_text=_('What to show: a signed change ("+3", "-2", "0"), "—" or "".'))
    status = serializers.ChoiceField(
        choices=[("shown", "shown"), ("hidden", "hidden"), ("blank", "blank")],
        help_text=_(
            "shown: the difference of the two published values; hidden: one of them is hidden; blank: the first "
            "year shown has no previous year."
        ),
    )


class TrendRowSerializer(serializers.Serializer):
    key = serializers.ListField(child=serializers.CharField(), help_text=_("One code per row dimension."))
    labels = serializers.ListField(child=serializers.CharField())
    cells = ProtectedCellSerializer(many=True, help_text=_("One per year, in the order of years."))
    changes = ChangeSerializer(many=True)
    total = ProtectedCellSerializer(help_text=_("Over the years (blank for a stock such as pending)."))


class TrendSerializer(serializers.Serializer):
    title = serializers.CharField()
    measure = MeasureSerializer(allow_null=True)
    row_dimensions = serializers.ListField(child=serializers.CharField())
    years = serializers.ListField(child=serializers.IntegerField())
    rows = TrendRowSerializer(many=True)
    year_totals = ProtectedCellSerializer(many=True, allow_null=True)
    year_total_changes = ChangeSerializer(many=True, allow_null=True)
    grand_total = ProtectedCellSerializer(allow_null=True)
    year_from = serializers.IntegerField(allow_null=True)
    year_to = serializers.IntegerField(allow_null=True)
    filters = serializers.DictField(child=serializers.CharField())
    disclosure_threshold = serializers.IntegerField()
    exact = serializers.BooleanField()
    data_as_of = serializers.DateTimeField(allow_null=True)


class TrendHeadlineQuerySerializer(serializers.Serializer):
    year_from = serializers.IntegerField(required=False, min_value=1900, max_value=2999)
    year_to = serializers.IntegerField(required=False, min_value=1900, max_value=2999)


class TrendQuerySerializer(TrendHeadlineQuerySerializer):
    measure = serializers.ChoiceField(choices=list(COUNT_MEASURES), default=DEFAULT_MEASURE)
    dims = serializers.CharField(
        required=False,
        help_text=_("One or two dimension names separated by a comma (the year is the third dimension)."),
    )

    def validate_dims(self, value):
        return [n.strip() for n in value.split(",") if n.strip()]


class ReportQuerySerializer(TrendHeadlineQuerySerializer):
    measure = serializers.ChoiceField(choices=list(COUNT_MEASURES), required=False)
    zoom = serializers.RegexField(
        r"^[0-9]{1,2}$", required=False, help_text=_("A province's code: its cantons alone (canton maps).")
    )
    order = serializers.ChoiceField(
        choices=[ORDER_BY_VALUE], required=False, help_text=_("Rows by published value (disaggregations).")
    )
    top = serializers.ChoiceField(
        choices=list(TOP_CHOICES),
        required=False,
        help_text=_("The largest rows by published value and one row with the rest (disaggregations)."),
    )


class ReportRowSerializer(RowSerializer):
    derived = serializers.ListField(
        child=serializers.CharField(), help_text=_("The derived columns' values (shares, medians, rates), as shown.")
    )


class AboutSerializer(serializers.Serializer):
    title = serializers.CharField()
    measure = serializers.CharField()
    years = serializers.CharField()
    filters = serializers.CharField()
    filters_not_applied = serializers.CharField(help_text=_("Filters of the request this report does not apply."))
    data_as_of = serializers.CharField()
    version = serializers.CharField()
    protection = serializers.CharField()
    definition = serializers.CharField()
    note = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field named as Field.source; DRF pops it


class ReportSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    measures = MeasureSerializer(many=True)
    row_dimensions = serializers.ListField(child=serializers.CharField(), help_text=_("Their labels."))
    columns = CodeLabelSerializer(many=True)
    derived_columns = serializers.ListField(child=serializers.CharField())
    rows = ReportRowSerializer(many=True)
    column_totals = ProtectedCellSerializer(many=True, allow_null=True)
    grand_total = ProtectedCellSerializer(allow_null=True)
    derived_totals = serializers.ListField(child=serializers.CharField())
    additive = serializers.BooleanField()
    chart = serializers.CharField(help_text=_("How the pages draw it: series, matrix, sankey, choropleth, none..."))
    about = AboutSerializer(help_text=_("What the exports state about the table: the same words."))
    disclosure_threshold = serializers.IntegerField()
    exact = serializers.BooleanField()
