"""Reference data of the records API: code lists and their codes, Costa Rica's geography, languages and
countries. Read-only, for any role; the same values the forms and the import accept."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries import countries
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import HasAnyRole
from records.models import (
    Canton,
    Code,
    CodeList,
    District,
    Language,
    Province,
)

from . import filters, serializers
from .views import ANY_SEGMENT, TAG_REFERENCE


class _ReferenceViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [HasAnyRole]
    lookup_value_regex = ANY_SEGMENT


@extend_schema_view(
    list=extend_schema(
        tags=[TAG_REFERENCE],
        summary=_("Codes of the code lists"),
        description=_(
            "Values of the controlled vocabularies (forms of exploitation, means, sex, ...), with Spanish and "
            "English labels and the ICCS and HTCDS crosswalks. A retired code (active=false) stays valid on old "
            "records."
        ),
    ),
    retrieve=extend_schema(tags=[TAG_REFERENCE], summary=_("One code")),
)
class CodeViewSet(_ReferenceViewSet):
    queryset = Code.objects.all()
    serializer_class = serializers.CodeSerializer
    filterset_class = filters.CodeFilter
    ordering_fields = ["list", "sort_order", "code"]
    ordering = ["list", "sort_order", "code"]


class CodeListView(APIView):
    permission_classes = [HasAnyRole]

    @extend_schema(
        tags=[TAG_REFERENCE],
        summary=_("The code lists"),
        description=_("Names of the code lists, to use as ?list= on the codes endpoint."),
        responses=serializers.CodeListSerializer(many=True),
    )
    def get(self, request):
        data = [{"list": value, "label": str(label)} for value, label in CodeList.choices]
        return Response(serializers.CodeListSerializer(data, many=True).data)


@extend_schema_view(
    list=extend_schema(tags=[TAG_REFERENCE], summary=pgettext_lazy("api", "Provinces")),
    retrieve=extend_schema(tags=[TAG_REFERENCE], summary=_("One province")),
)
class ProvinceViewSet(_ReferenceViewSet):
    queryset = Province.objects.all()
    serializer_class = serializers.ProvinceSerializer
    ordering_fields = ["code", "name"]
    ordering = ["code"]


@extend_schema_view(
    list=extend_schema(tags=[TAG_REFERENCE], summary=pgettext_lazy("api", "Cantons")),
    retrieve=extend_schema(tags=[TAG_REFERENCE], summary=_("One canton")),
)
class CantonViewSet(_ReferenceViewSet):
    queryset = Canton.objects.all()
    serializer_class = serializers.CantonSerializer
    filterset_class = filters.CantonFilter
    ordering_fields = ["code", "name"]
    ordering = ["code"]


@extend_schema_view(
    list=extend_schema(tags=[TAG_REFERENCE], summary=pgettext_lazy("api", "Districts")),
    retrieve=extend_schema(tags=[TAG_REFERENCE], summary=_("One district")),
)
class DistrictViewSet(_ReferenceViewSet):
    queryset = District.objects.select_related("canton")
    serializer_class = serializers.DistrictSerializer
    filterset_class = filters.DistrictFilter
    ordering_fields = ["code", "name"]
    ordering = ["code"]


@extend_schema_view(
    list=extend_schema(tags=[TAG_REFERENCE], summary=_("Mother tongues (ISO 639-3)")),
    retrieve=extend_schema(tags=[TAG_REFERENCE], summary=_("One language")),
)
class LanguageViewSet(_ReferenceViewSet):
    queryset = Language.objects.all()
    serializer_class = serializers.LanguageSerializer
    ordering_fields = ["code", "name_es", "name_en"]
    ordering = ["code"]


class CountryListView(APIView):
    permission_classes = [HasAnyRole]

    @extend_schema(
        tags=[TAG_REFERENCE],
        summary=pgettext_lazy("api", "Countries"),
        description=_("ISO 3166-1 countries, named in the language of the request."),
        responses=serializers.CountrySerializer(many=True),
    )
    def get(self, request):
        data = [{"code": code, "name": str(name)} for code, name in countries]
        return Response(serializers.CountrySerializer(data, many=True).data)
