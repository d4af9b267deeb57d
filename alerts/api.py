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
from alerts.serializers import (
    AcknowledgeSerializer,
    AlertSerializer,
    BulkAcknowledgedSerializer,
    BulkAcknowledgeSerializer,
)
from inventory_project.kernel.idempotency import IdempotentWriteApi

ALERT_ID = OpenApiParameter(
    "alert_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The alert's id."
)


@extend_schema_view(
    get=extend_schema(
        operation_id="alerts_list",
        summary="List low-stock alerts",
        description="Alerts of the branches the caller may see, newest first. Filter by "
        "branch, product and status (repeatable), search the product's SKU or name (q), "
        "sort (ordering); paginated with a total.",
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


@extend_schema_view(
    post=extend_schema(
        operation_id="alerts_acknowledge_many",
        summary="Acknowledge several alerts",
        description="Acknowledge up to 200 alerts at once with one optional note, all or "
        "nothing: an alert the caller may not see (or that does not exist) answers 404 "
        "(unknown_alert) naming none, one at a branch where they may not acknowledge 403. "
        "Alerts already acknowledged or resolved are left as they are. Send an "
        "`Idempotency-Key` to make retries safe.",
        request=BulkAcknowledgeSerializer,
        responses={200: BulkAcknowledgedSerializer},
    )
)
class AcknowledgeAlertsApi(IdempotentWriteApi):
    input_serializer = BulkAcknowledgeSerializer

    def apply(self, request: Request, data: dict) -> Response:
        done = services.acknowledge_alerts(
            actor=request.user, alert_ids=data["alerts"], note=data["note"]
        )
        fresh = selectors.visible_alerts(request.user).filter(pk__in=[a.pk for a in done])
        return Response({"acknowledged": AlertSerializer(fresh.order_by("pk"), many=True).data})
