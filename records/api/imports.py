"""The import steps through the API, wrapping records.imports exactly as its pages do: upload -> dry run
(preview: counts and every error by row and column, nothing written) -> confirm (all rows in one transaction
or none). Small files run within the request, large ones outside it (records.imports.runner: a Celery
worker, or a runner process in the embedded mode; poll the job for progress).
Only officers import, only into their own institutions; another user's job answers 404."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts import access
from accounts.api.permissions import CanImportRecords
from accounts.models import AccessEvent
from records.imports import runner as import_runner
from records.imports import services as import_services
from records.imports.forms import ImportUploadForm
from records.imports.models import ImportJob
from records.imports.parsing import ImportFileError

from . import import_serializers, serializers

TAG = "imports"


@extend_schema_view(
    list=extend_schema(tags=[TAG], summary=_("Your import jobs")),
    retrieve=extend_schema(
        tags=[TAG],
        summary=_("One import job: status, progress, counts and errors"),
        description=_("Poll this while the status is 'previewing' or 'importing'."),
    ),
)
class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [CanImportRecords]
    parser_classes = [MultiPartParser]  # the upload; confirm and cancel take no body
    serializer_class = import_serializers.ImportJobSerializer
    lookup_value_regex = "[^/]+"
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return access.import_jobs_visible_to(self.request.user).select_related("institution")

    def get_object(self):
        import_runner.import_jobs_sweep_embedded()
        try:
            return self.get_queryset().get(pk=int(self.kwargs["pk"]))
        except (ValueError, OverflowError, ImportJob.DoesNotExist):
            raise exceptions.NotFound from None

    def _job(self, job: ImportJob, *, status_code=status.HTTP_200_OK) -> Response:
        job.refresh_from_db()
        return Response(import_serializers.ImportJobSerializer(job).data, status=status_code)

    @extend_schema(
        tags=[TAG],
        summary=_("Upload a file: the dry run (preview)"),
        description=_(
            "Checks every row for your institution (never another one, whatever the file says) and classifies it "
            "as new, updated or unchanged, writing nothing. A small file answers with the result (201); a large "
            "one with status 'previewing' (202) while a worker checks it."
        ),
        request={"multipart/form-data": import_serializers.ImportUploadSerializer},
        responses={201: import_serializers.ImportJobSerializer, 202: import_serializers.ImportJobSerializer},
    )
    def create(self, request, *args, **kwargs):
        payload = import_serializers.ImportUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        mine = access.import_institutions(request.user)
        try:
            chosen = access.acting_institution(request.user, payload.validated_data.get("institution"), by="code")
        except access.InstitutionChoiceRefused as refused:
            raise exceptions.ValidationError({"institution": [refused.message]}) from None
        form = ImportUploadForm({"institution": chosen.pk}, {"file": payload.validated_data["file"]}, institutions=mine)
        if not form.is_valid():
            raise exceptions.ValidationError({name: [str(m) for m in msgs] for name, msgs in form.errors.items()})
        try:
            job = import_services.import_job_create(
                user=request.user, institution=form.cleaned_data["institution"], upload=form.cleaned_data["file"]
            )
        except ImportFileError as problem:
            raise exceptions.ValidationError({"file": [problem.message]}) from None
        if import_runner.import_step_run(job=job, step="preview"):
            return self._job(job, status_code=status.HTTP_201_CREATED)
        return self._job(job, status_code=status.HTTP_202_ACCEPTED)

    @extend_schema(
        tags=[TAG],
        summary=_("Confirm: write every row, or none"),
        description=_(
            "Only a previewed job without errors. The rows are validated again and written in one transaction; "
            "importing the same file twice creates nothing new. 409 if the job cannot be confirmed."
        ),
        request=None,
        responses={
            200: import_serializers.ImportJobSerializer,
            202: import_serializers.ImportJobSerializer,
            409: OpenApiResponse(serializers.ServiceErrorSerializer),
        },
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        job = self.get_object()
        if not import_services.import_job_start(job=job):
            raise _Conflict(_("This import cannot be confirmed: it has errors, was cancelled or already ran."))
        access.log_access(request, AccessEvent.Action.IMPORT, obj=job, detail=f"institution={job.institution_id}")
        if import_runner.import_step_run(job=job, step="confirm"):
            return self._job(job)
        return self._job(job, status_code=status.HTTP_202_ACCEPTED)

    @extend_schema(
        tags=[TAG],
        summary=_("Cancel: nothing is written"),
        request=None,
        responses=import_serializers.ImportJobSerializer,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = self.get_object()
        import_services.import_cancel(job=job)
        return self._job(job)


class _Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, message):
        super().__init__(detail={"detail": str(message), "code": "not_confirmable"})
