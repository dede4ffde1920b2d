"""The estimation API: finished runs with their estimates and intervals, for coordinators and analysts. Never
capture-history cells, for any role (the serializer has no field for them)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import access
from accounts.api.permissions import CanViewEstimates
from estimation import reporting

from .serializers import EstimationRunSerializer

TAG = "estimation"


def _public(run, user) -> dict:
    report = reporting.run_report(run, user)
    report.pop("histories", None)
    return report


class EstimationRunListView(APIView):
    permission_classes = [CanViewEstimates]

    @extend_schema(
        tags=[TAG],
        summary=_("Estimates of unidentified victims (latest finished runs)"),
        responses=EstimationRunSerializer(many=True),
    )
    def get(self, request):
        runs = access.estimation_runs_visible_to(request.user).filter(status__in=["success", "refused"])[:50]
        return Response(EstimationRunSerializer([_public(r, request.user) for r in runs], many=True).data)


class EstimationRunDetailView(APIView):
    permission_classes = [CanViewEstimates]

    @extend_schema(tags=[TAG], summary=_("One estimation run"), responses=EstimationRunSerializer)
    def get(self, request, pk: int):
        run = access.get_estimation_run(request.user, pk)
        if not run.is_finished:
            raise NotFound
        return Response(EstimationRunSerializer(_public(run, request.user)).data)
