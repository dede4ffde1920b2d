"""Shapes of the estimation API: estimates and intervals only. There is no field for capture-history cells, so
no code path can put them in an answer."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class CountSerializer(serializers.Serializer):
    value = serializers.IntegerField(allow_null=True, help_text=_("null when below the disclosure threshold"))
    display = serializers.CharField()


class CandidateSerializer(serializers.Serializer):
    model = serializers.CharField()
    chosen = serializers.BooleanField()
    skipped = serializers.CharField(allow_null=True)
    estimate = serializers.IntegerField(allow_null=True)
    low = serializers.IntegerField(allow_null=True)
    high = serializers.IntegerField(allow_null=True)
    aic = serializers.FloatField(allow_null=True)


class GroupSerializer(serializers.Serializer):
    key = serializers.CharField()
    # A declared field, though the stubs see Field.label (records.api.serializers.CodeSerializer says why).
    label = serializers.CharField()  # type: ignore[assignment]
    detected = CountSerializer()
    refusal = serializers.CharField(allow_null=True)
    estimate = serializers.IntegerField(required=False)
    low = serializers.IntegerField(required=False)
    high = serializers.IntegerField(required=False)
    interval_method = serializers.CharField(required=False)
    ratio = serializers.FloatField(required=False, allow_null=True)
    replications = serializers.IntegerField(required=False)
    model = serializers.CharField(required=False)
    candidates = CandidateSerializer(many=True, required=False)


class ListSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]
    institutions = serializers.ListField(child=serializers.CharField())
    persons = CountSerializer()


class EstimationRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    year_from = serializers.IntegerField()
    year_to = serializers.IntegerField()
    lists = ListSerializer(many=True)
    undocumented = CountSerializer(help_text=_("applications without a document, each counted on its own list"))
    replications = serializers.IntegerField()
    seed = serializers.IntegerField()
    p_threshold = serializers.FloatField()
    interval_method = serializers.CharField()
    finished_at = serializers.DateTimeField(allow_null=True)
    groups = GroupSerializer(many=True)
