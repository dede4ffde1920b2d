"""Views of the records API. Thin: each one asks accounts.access for what the user may see, lets the
serializer translate, and calls one records.services function to write. Another institution's object answers
404 (the querysets and access.get_application never hold it); a role without the right answers 403 (the
permission classes of accounts.api.permissions)."""

from django.core.exceptions import PermissionDenied
from django.db.models import ForeignKey, Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import access
from accounts.api.permissions import ApplicationPermission, CanReadRecords, DecisionPermission
from accounts.models import AccessEvent
from records import facts, services
from records.forms import ApplicationForm, DecisionForm, initial_for
from records.models import (
    Application,
    Code,
    Decision,
    District,
    Person,
)

from . import filters, serializers


class Conflict(exceptions.APIException):
    """A write the workflow refuses in the record's current state (records.services.ServiceError): 409, with
    the service's message (in the user's language) and its code."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, error: services.ServiceError):
        super().__init__(detail={"detail": error.message, "code": error.code})


def _call(service, **kwargs):
    try:
        return service(**kwargs)
    except services.ServiceError as error:
        raise Conflict(error) from None


def _form_errors(form, *, identity_fields=()) -> exceptions.ValidationError:
    """The form's messages keyed as the JSON was: identity fields under "identity", the rest by name."""
    errors: dict = {}
    for name, messages in form.errors.items():
        text = [str(m) for m in messages]
        if name == "__all__":
            errors.setdefault("non_field_errors", []).extend(text)
        elif name in identity_fields:
            errors.setdefault("identity", {})[name] = text
        else:
            errors[name] = text
    return exceptions.ValidationError(errors)


_CONFLICT_RESPONSE = OpenApiResponse(
    serializers.ServiceErrorSerializer, description=_("Refused in the record's current state; the message says why.")
)

TAG_REFERENCE = "reference"
TAG_RECORDS = "records"

# Any path segment reaches the view (not only [^/.]+, the router's default), so a malformed id gets the
# API's JSON 404 rather than Django's HTML page.
ANY_SEGMENT = "[^/]+"

_APPLICATION_M2M = list(facts.MULTI_VALUED_FIELDS)
_APPLICATION_FK = [
    "institution",
    *(name for name in facts.SCALAR_FIELDS if isinstance(Application._meta.get_field(name), ForeignKey)),
]


def _with_relations(queryset):
    # The API shows related rows by their code only: fetching only that keeps a page of 200 light.
    codes = Code.objects.only("id", "code")
    prefetches: list[str | Prefetch] = [
        Prefetch(name, queryset=codes)
        for name in _APPLICATION_M2M
        if name not in ("exploitation_districts", "exploitation_countries", "nationalities")
    ]
    prefetches += [
        Prefetch("exploitation_districts", queryset=District.objects.only("code")),
        "exploitation_countries",
        "nationalities",
    ]
    return queryset.select_related(*_APPLICATION_FK).prefetch_related(*prefetches)


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
    create=extend_schema(
        tags=[TAG_RECORDS],
        summary=_("Register an application (draft)"),
        description=_(
            "Officers only. The application belongs to your institution, never to one named in the payload; an "
            "officer of several institutions chooses one of their own with 'institution'. The same checks as the "
            "portal's form apply; the answer is the application as stored, with status DRAFT."
        ),
        request=serializers.ApplicationWriteSerializer,
        responses={201: serializers.ApplicationDetailSerializer, 409: _CONFLICT_RESPONSE},
    ),
    update=extend_schema(
        tags=[TAG_RECORDS],
        summary=_("Replace an application's data"),
        description=_(
            "Officers of the owning institution, while the application is a draft or the ERI asked for more "
            "information. Send the 'version' you read: if somebody saved in between, 409 and nothing changes."
        ),
        request=serializers.ApplicationWriteSerializer,
        responses={200: serializers.ApplicationDetailSerializer, 409: _CONFLICT_RESPONSE},
    ),
    partial_update=extend_schema(
        tags=[TAG_RECORDS],
        summary=_("Change some of an application's data"),
        description=_("As the full change, but fields left out keep their values. 'version' is required."),
        request=serializers.ApplicationWriteSerializer,
        responses={200: serializers.ApplicationDetailSerializer, 409: _CONFLICT_RESPONSE},
    ),
)
class ApplicationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_regex = ANY_SEGMENT
    filterset_class = filters.ApplicationFilter
    ordering_fields = ["received_on", "submitted_at", "due_on", "case_reference", "status", "id"]
    ordering = ["-received_on", "-id"]

    def get_permissions(self):
        if self.action in ("start_review", "request_information"):
            return [DecisionPermission()]
        return [ApplicationPermission()]

    def get_queryset(self):
        return _with_relations(access.applications_visible_to(self.request.user))

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.ApplicationSerializer
        if self.action in ("create", "update", "partial_update"):
            return serializers.ApplicationWriteSerializer
        return serializers.ApplicationDetailSerializer

    def get_object(self):
        application = access.get_application(self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, application)
        return application

    def _detail(self, request, application, *, status_code=status.HTTP_200_OK) -> Response:
        # Re-read with its relations through the same visibility rule (a bare manager here would be unscoped).
        application = _with_relations(access.applications_visible_to(request.user).filter(pk=application.pk)).get()
        identity_allowed = access.can_see_identity(request.user, application)
        if identity_allowed:
            _log_identity_view(request, application)
        context = {**self.get_serializer_context(), "identity_allowed": identity_allowed}
        return Response(serializers.ApplicationDetailSerializer(application, context=context).data, status=status_code)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(request, self.get_object())

    # --- writes: shape (serializer) -> the page's checks (records.forms) -> one service -------------------

    def _acting_institution(self, requested: str | None):
        """The institution the officer acts for (accounts.access.acting_institution): never one the payload
        names that is not theirs, and never a guess for an officer of several."""
        try:
            return access.acting_institution(self.request.user, requested, by="code")
        except access.InstitutionChoiceRefused as refused:
            raise exceptions.ValidationError({"institution": [refused.message]}) from None

    def _validated_form(self, values: dict, *, institution, application=None) -> ApplicationForm:
        identity = values.pop("identity", None) or {}
        identity.setdefault("document_type", "none")
        data = serializers.form_data({**values, **identity})
        form = ApplicationForm(data, institution=institution, application=application)
        if not form.is_valid():
            raise _form_errors(form, identity_fields=facts.IDENTITY_FIELDS)
        return form

    def create(self, request, *args, **kwargs):
        payload = serializers.ApplicationWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        values = dict(payload.validated_data)
        institution = self._acting_institution(values.pop("institution", None))
        values.pop("version", None)
        form = self._validated_form(values, institution=institution)
        application = _call(
            services.application_create,
            user=request.user,
            institution=institution,
            values=form.application_values(),
            identity=form.identity_values(),
        )
        return self._detail(request, application, status_code=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        application = self.get_object()
        if not access.owns(request.user, application):
            raise PermissionDenied  # visible (shared) but not theirs: the right to edit is the owner's
        payload = serializers.ApplicationWriteSerializer(data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        values = dict(payload.validated_data)
        values.pop("institution", None)  # the owner never changes
        version = values.pop("version", None)
        if version is None:
            raise exceptions.ValidationError({"version": [_("Send the version you read, to avoid lost updates.")]})
        if partial:
            current = initial_for(application)
            current.pop("version", None)
            for place in facts.PLACES:
                # A place is one value at the level given: naming any level of it replaces the stored one.
                if any(name in values for name in facts.place_fields(place)):
                    for name in facts.place_fields(place):
                        current.pop(name, None)
            identity = {name: current.pop(name) for name in facts.IDENTITY_FIELDS if name in current}
            identity.update(values.pop("identity", None) or {})
            values = {**current, **values, "identity": identity}
        form = self._validated_form(values, institution=application.institution, application=application)
        application = _call(
            services.application_update,
            user=request.user,
            application=application,
            version=version,
            values=form.application_values(),
            identity=form.identity_values(),
        )
        return self._detail(request, application)

    def _owned(self, request):
        application = self.get_object()
        if not access.owns(request.user, application):
            raise PermissionDenied
        return application

    @extend_schema(
        tags=[TAG_RECORDS],
        summary=_("Submit to the ERI"),
        description=_(
            "Sends a draft (or an application the ERI asked more information about) to the ERI; the decision "
            "deadline starts to run. Officers of the owning institution."
        ),
        request=None,
        responses={200: serializers.ApplicationDetailSerializer, 409: _CONFLICT_RESPONSE},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        application = self._owned(request)
        _call(services.application_submit, user=request.user, application=application)
        return self._detail(request, application)

    @extend_schema(
        tags=[TAG_RECORDS],
        summary=_("Withdraw"),
        description=_("The owning institution withdraws an application the ERI has not decided."),
        request=serializers.WithdrawSerializer,
        responses={200: serializers.ApplicationDetailSerializer, 409: _CONFLICT_RESPONSE},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        application = self._owned(request)
        payload = serializers.WithdrawSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        _call(
            services.application_withdraw,
            user=request.user,
            application=application,
            reason=payload.validated_data["reason"],
        )
        return self._detail(request, application)

    @extend_schema(
        tags=[TAG_RECORDS],
        summary=_("Take into ERI review"),
        description=_("Coordinators: a submitted application goes under review."),
        request=None,
        responses={200: serializers.ApplicationDetailSerializer, 409: _CONFLICT_RESPONSE},
    )
    @action(detail=True, methods=["post"], url_path="start-review")
    def start_review(self, request, pk=None):
        application = self.get_object()
        _call(services.application_start_review, user=request.user, application=application)
        return self._detail(request, application)

    @extend_schema(
        tags=[TAG_RECORDS],
        summary=_("Ask the institution for more information"),
        description=_("Coordinators: the application goes back to the institution with this message."),
        request=serializers.InformationRequestSerializer,
        responses={200: serializers.ApplicationDetailSerializer, 409: _CONFLICT_RESPONSE},
    )
    @action(detail=True, methods=["post"], url_path="request-information")
    def request_information(self, request, pk=None):
        application = self.get_object()
        payload = serializers.InformationRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        _call(
            services.information_request,
            user=request.user,
            application=application,
            message=payload.validated_data["message"],
        )
        return self._detail(request, application)


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
            .prefetch_related(Prefetch("applications", queryset=visible.only("id", "person_id")))
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
    create=extend_schema(
        tags=[TAG_RECORDS],
        summary=_("Record an ERI resolution"),
        description=_(
            "Coordinators only. The same checks as the portal's form (no future date, not before receipt, a "
            "vote that is a majority for the outcome, a new resolution number). On a decided application the "
            "resolution must be an appeal or a correction and supersedes the one in force."
        ),
        request=serializers.DecisionWriteSerializer,
        responses={201: serializers.DecisionSerializer, 409: _CONFLICT_RESPONSE},
    ),
)
class DecisionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    permission_classes = [DecisionPermission]
    lookup_value_regex = ANY_SEGMENT
    serializer_class = serializers.DecisionSerializer
    filterset_class = filters.DecisionFilter
    ordering_fields = ["resolution_date", "recorded_at", "id"]
    ordering = ["-recorded_at", "-id"]

    def get_queryset(self):
        visible = access.applications_visible_to(self.request.user)
        return Decision.objects.filter(application__in=visible).select_related("recorded_by")

    def get_serializer_class(self):
        return serializers.DecisionWriteSerializer if self.action == "create" else serializers.DecisionSerializer

    def create(self, request, *args, **kwargs):
        payload = serializers.DecisionWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        values = dict(payload.validated_data)
        application = access.get_application(request.user, values.pop("application"))  # else 404
        correction = application.is_decided
        kind = values.pop("kind")
        if correction == (kind == Decision.Kind.ORIGINAL):
            message = (
                _("This application is decided: a new resolution is an appeal or a correction.")
                if correction
                else _("An appeal or correction needs a decided application; this one is not decided.")
            )
            raise exceptions.ValidationError({"kind": [message]})
        form = DecisionForm(
            serializers.form_data({**values, "kind": kind}), application=application, correction=correction
        )
        if not form.is_valid():
            raise _form_errors(form)
        service = services.decision_correct if correction else services.decision_record
        decision = _call(service, user=request.user, application=application, **form.cleaned_data)
        return Response(serializers.DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)
