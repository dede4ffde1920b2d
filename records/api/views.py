"""Views of the records API. Thin: each one asks accounts.access for what the user may see, lets the
serializer translate, and calls one records.services function to write. Another institution's object answers
404 (the querysets and access.get_application never hold it); a role without the right answers 403 (the
permission classes of accounts.api.permissions)."""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import access
from accounts.api.permissions import CanReadRecords, HasAnyRole
from accounts.models import AccessEvent
from records.models import (
    Application,
    Canton,
    Code,
    CodeList,
    Decision,
    District,
    Language,
    Person,
    Province,
)

from . import filters, serializers

TAG_REFERENCE = "reference"
TAG_RECORDS = "records"

_APPLICATION_M2M = [
    "exploitation_forms",
    "sexual_exploitation_types",
    "labour_sectors",
    "means",
    "acts",
    "recruitment_methods",
    "control_methods",
    "exploitation_districts",
    "exploitation_countries",
    "nationalities",
]
_APPLICATION_FK = [
    "institution",
    "relationship_to_trafficker",
    "recruitment_district",
    "sex",
    "gender_identity",
    "migration_status",
    "education_level",
    "occupation",
    "residence_district",
    "mother_tongue",
]


def _with_relations(queryset):
    return queryset.select_related(*_APPLICATION_FK).prefetch_related(*_APPLICATION_M2M)


# --- Reference data ------------------------------------------------------------------------------------------


# Any path segment reaches the view (not only [^/.]+, the router's default), so a malformed id gets the
# API's JSON 404 rather than Django's HTML page.
ANY_SEGMENT = "[^/]+"


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
    list=extend_schema(tags=[TAG_REFERENCE], summary=_("Provinces")),
    retrieve=extend_schema(tags=[TAG_REFERENCE], summary=_("One province")),
)
class ProvinceViewSet(_ReferenceViewSet):
    queryset = Province.objects.all()
    serializer_class = serializers.ProvinceSerializer
    ordering_fields = ["code", "name"]
    ordering = ["code"]


@extend_schema_view(
    list=extend_schema(tags=[TAG_REFERENCE], summary=_("Cantons")),
    retrieve=extend_schema(tags=[TAG_REFERENCE], summary=_("One canton")),
)
class CantonViewSet(_ReferenceViewSet):
    queryset = Canton.objects.all()
    serializer_class = serializers.CantonSerializer
    filterset_class = filters.CantonFilter
    ordering_fields = ["code", "name"]
    ordering = ["code"]


@extend_schema_view(
    list=extend_schema(tags=[TAG_REFERENCE], summary=_("Districts")),
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
        summary=_("Countries"),
        description=_("ISO 3166-1 countries, named in the language of the request."),
        responses=serializers.CountrySerializer(many=True),
    )
    def get(self, request):
        data = [{"code": code, "name": str(name)} for code, name in countries]
        return Response(serializers.CountrySerializer(data, many=True).data)


# --- Records -------------------------------------------------------------------------------------------------


def _log_identity_view(request, obj) -> None:
    access.log_access(request, AccessEvent.Action.IDENTITY_VIEW, obj=obj, detail="api")


@extend_schema_view(
    list=extend_schema(
        tags=[TAG_RECORDS],
        summary=_("Applications you can see"),
        description=_(
            "Officers: their institutions' applications and those shared with them. Coordinators: every "
            "submitted application. Analysts and administrators: 403. Lists carry no identity data."
        ),
    ),
    retrieve=extend_schema(
        tags=[TAG_RECORDS],
        summary=_("One application"),
        description=_(
            "With the narrative (identity data) for those entitled; each such view is logged. Another "
            "institution's application answers 404."
        ),
    ),
)
class ApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [CanReadRecords]
    lookup_value_regex = ANY_SEGMENT
    filterset_class = filters.ApplicationFilter
    ordering_fields = ["received_on", "submitted_at", "due_on", "case_reference", "status", "id"]
    ordering = ["-received_on", "-id"]

    def get_queryset(self):
        return _with_relations(access.applications_visible_to(self.request.user))

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.ApplicationSerializer
        return serializers.ApplicationDetailSerializer

    def get_object(self):
        application = access.get_application(self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, application)
        return application

    def retrieve(self, request, *args, **kwargs):
        application = self.get_object()
        application = _with_relations(Application.objects.filter(pk=application.pk)).get()
        identity_allowed = access.can_see_identity(request.user, application)
        if identity_allowed:
            _log_identity_view(request, application)
        serializer = self.get_serializer(
            application, context={**self.get_serializer_context(), "identity_allowed": identity_allowed}
        )
        return Response(serializer.data)


@extend_schema_view(
    list=extend_schema(
        tags=[TAG_RECORDS],
        summary=_("People in applications you can see"),
        description=_("Without identity data. Analysts and administrators: 403."),
    ),
    retrieve=extend_schema(
        tags=[TAG_RECORDS],
        summary=_("One person"),
        description=_(
            "Identity data (names, document, birth date, contact) only for those entitled to it: the owning "
            "institution, institutions granted one of the person's cases, and coordinators; for anyone else the "
            "'identity' field is absent. Each view of identity data is logged."
        ),
    ),
)
class PersonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [CanReadRecords]
    lookup_value_regex = ANY_SEGMENT
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]

    def _visible_applications(self):
        return access.applications_visible_to(self.request.user)

    def get_queryset(self):
        visible = self._visible_applications()
        return (
            Person.objects.filter(pk__in=visible.values("person_id"))
            .select_related("institution", "identity")
            .prefetch_related(Prefetch("applications", queryset=Application.objects.only("id", "person_id")))
        )

    def get_serializer_class(self):
        return serializers.PersonSerializer if self.action == "list" else serializers.PersonDetailSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["visible_application_ids"] = set(self._visible_applications().values_list("pk", flat=True))
        return context

    def retrieve(self, request, *args, **kwargs):
        person = self.get_object()
        # Entitled if entitled to any visible application of the person (the rule is per application).
        identity_allowed = any(
            access.can_see_identity(request.user, application)
            for application in self._visible_applications().filter(person=person)
        )
        if identity_allowed:
            _log_identity_view(request, person)
        context = {**self.get_serializer_context(), "identity_allowed": identity_allowed}
        return Response(self.get_serializer(person, context=context).data)


@extend_schema_view(
    list=extend_schema(
        tags=[TAG_RECORDS],
        summary=_("ERI decisions on applications you can see"),
    ),
    retrieve=extend_schema(tags=[TAG_RECORDS], summary=_("One decision")),
)
class DecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [CanReadRecords]
    lookup_value_regex = ANY_SEGMENT
    serializer_class = serializers.DecisionSerializer
    filterset_class = filters.DecisionFilter
    ordering_fields = ["resolution_date", "recorded_at", "id"]
    ordering = ["-recorded_at", "-id"]

    def get_queryset(self):
        visible = access.applications_visible_to(self.request.user)
        return Decision.objects.filter(application__in=visible).select_related("recorded_by")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["visible_applications"] = access.applications_visible_to(self.request.user)
        return context
