"""Low-stock alerts: the list, one alert, and acknowledging it.

Alerts are raised and resolved by stock changes, never through the API; who may
acknowledge which is decided by ``alerts.services`` through ``accounts.permissions``.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from alerts import selectors, services
from alerts.filters import AlertFilter
from alerts.serializers import AcknowledgeSerializer, AlertSerializer
from inventory_project.kernel.idempotency import IdempotentWriteApi

ALERT_ID = OpenApiParameter(
    "alert_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The alert's id."
)


@extend_schema_view(
    get=extend_schema(
        operation_id="alerts_list",
        summary="List low-stock alerts",
        description="Alerts of the branches the caller may see, newest first. Filter by "
        "branch, product and status (repeatable); paginated with a total.",
    )
)
class AlertListApi(generics.ListAPIView):
    serializer_class = AlertSerializer
    filterset_class = AlertFilter

    def get_queryset(self):
        return selectors.visible_alerts(self.request.user)


@extend_schema_view(
    get=extend_schema(operation_id="alerts_retrieve", summary="One alert", parameters=[ALERT_ID])
)
class AlertDetailApi(generics.RetrieveAPIView):
    serializer_class = AlertSerializer
    lookup_url_kwarg = "alert_id"

    def get_queryset(self):
        return selectors.visible_alerts(self.request.user)


@extend_schema_view(
    post=extend_schema(
        operation_id="alerts_acknowledge",
        summary="Acknowledge an alert",
        description="Say someone is on it (OPEN -> ACKNOWLEDGED), with an optional note. "
        "ADMINs and the branch's MANAGERs. A resolved alert answers 409 (alert_resolved), "
        "one already acknowledged 409 (alert_acknowledged). Send an `Idempotency-Key` to "
        "make retries safe.",
        parameters=[ALERT_ID],
        request=AcknowledgeSerializer,
        responses={200: AlertSerializer},
    )
)
class AcknowledgeAlertApi(IdempotentWriteApi):
    input_serializer = AcknowledgeSerializer

    def apply(self, request: Request, data: dict, alert_id: str) -> Response:
        alert = services.acknowledge_alert(actor=request.user, alert_id=alert_id, **data)
        fresh = selectors.visible_alerts(request.user).get(pk=alert.pk)
        return Response(AlertSerializer(fresh).data)
