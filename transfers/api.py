"""Transfers between branches: the list, one transfer, and one endpoint per workflow step.

Views parse, call a service, and answer the transfer as it now stands. Every step accepts an
``Idempotency-Key`` (see ``inventory_project.kernel.idempotency``) and is retried after a
transient database conflict; who may do which step, and when, is decided by
``transfers.services`` alone, from the table in ``transfers.workflow``. Every transfer
answered lists the steps the caller may take on it now (``available_steps``).
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory_project.kernel.idempotency import IdempotentWriteApi
from transfers import selectors, services
from transfers.filters import TransferFilter
from transfers.models import Transfer
from transfers.serializers import (
    TransferApproveSerializer,
    TransferCancelSerializer,
    TransferCloseSerializer,
    TransferCreateSerializer,
    TransferDetailSerializer,
    TransferReceiveSerializer,
    TransferRejectSerializer,
    TransferSerializer,
    TransferShipSerializer,
)

TRANSFER_ID = OpenApiParameter(
    "transfer_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The transfer's id."
)
IDEMPOTENT = " Send an `Idempotency-Key` to make retries safe."


def _answer(request: Request, transfer: Transfer, code: int = status.HTTP_200_OK) -> Response:
    return _render(request, selectors.transfer_after_step(transfer), code)


def _render(request: Request, detail: Transfer, code: int = status.HTTP_200_OK) -> Response:
    context = {"rights": selectors.step_rights(request.user, detail)}
    return Response(TransferDetailSerializer(detail, context=context).data, status=code)


# Reading ----------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        operation_id="transfers_list",
        summary="List transfers",
        description="Transfers into or out of the branches the caller may see, newest first. "
        "Filter by branch (and direction relative to it), status and start time; paginated "
        "with a total.",
    )
)
class TransferListApi(generics.ListAPIView):
    serializer_class = TransferSerializer
    filterset_class = TransferFilter

    def get_queryset(self):
        return selectors.transfer_list(self.request.user)

    def get_serializer_context(self) -> dict:
        # The reader's rights at every branch in one query, not two per row.
        return {
            **super().get_serializer_context(),
            "rights": selectors.step_rights(self.request.user),
        }


@extend_schema_view(
    get=extend_schema(
        operation_id="transfers_retrieve",
        summary="One transfer",
        description="With its lines and its history, oldest step first.",
        parameters=[TRANSFER_ID],
        responses={200: TransferDetailSerializer},
    )
)
class TransferDetailApi(APIView):
    def get(self, request: Request, transfer_id: str) -> Response:
        return _render(request, selectors.transfer_detail(request.user, transfer_id))


# Starting ---------------------------------------------------------------------------------


class _TransferStartApi(IdempotentWriteApi):
    """Start the transfer, answer 201 with it."""

    input_serializer = TransferCreateSerializer
    service = None

    def apply(self, request: Request, data: dict) -> Response:
        transfer = self.service(
            actor=request.user,
            from_branch_id=data["from_branch_id"],
            to_branch_id=data["to_branch_id"],
            items=[services.TransferItem(**item) for item in data["items"]],
            note=data["note"],
        )
        return _answer(request, transfer, status.HTTP_201_CREATED)


def _start(operation_id: str, summary: str, description: str):
    return extend_schema_view(
        post=extend_schema(
            operation_id=operation_id,
            summary=summary,
            description=description
            + " Each product appears once; an error in a line names it (`fields` key "
            "`lines.<index>.<field>`)." + IDEMPOTENT + " Answers the new transfer.",
            request=TransferCreateSerializer,
            responses={201: TransferDetailSerializer},
        )
    )


@_start(
    "transfers_request",
    "Request stock from another branch",
    "A MANAGER of the destination (`to_branch`) asks the source for stock; the transfer "
    "starts REQUESTED and waits for the source to approve or reject it.",
)
class TransferRequestApi(_TransferStartApi):
    service = staticmethod(services.request_transfer)


@_start(
    "transfers_send",
    "Send stock to another branch",
    "A MANAGER of the source (`from_branch`) starts a transfer out; it starts APPROVED, "
    "ready to ship.",
)
class TransferSendApi(_TransferStartApi):
    service = staticmethod(services.send_transfer)


# Steps ------------------------------------------------------------------------------------


class _TransferStepApi(IdempotentWriteApi):
    """Apply the step, answer the transfer as it now stands."""

    service = None

    def apply(self, request: Request, data: dict, transfer_id: str) -> Response:
        transfer = self.service(actor=request.user, transfer_id=transfer_id, **data)
        return _answer(request, transfer)


def _step(operation_id: str, summary: str, description: str, serializer: type):
    return extend_schema_view(
        post=extend_schema(
            operation_id=operation_id,
            summary=summary,
            description=description
            + " A transfer in another state answers 409 (illegal_transition)."
            + IDEMPOTENT
            + " Answers the transfer as it now stands.",
            parameters=[TRANSFER_ID],
            request=serializer,
            responses={200: TransferDetailSerializer},
        )
    )


@_step(
    "transfers_approve",
    "Approve a request",
    "The source agrees to send a REQUESTED transfer (-> APPROVED), optionally changing how "
    "much of some products it will send. ADMINs and MANAGERs of the source.",
    TransferApproveSerializer,
)
class TransferApproveApi(_TransferStepApi):
    input_serializer = TransferApproveSerializer
    service = staticmethod(services.approve_transfer)


@_step(
    "transfers_ship",
    "Ship a transfer",
    "The goods leave the source (APPROVED -> IN_TRANSIT): every line's quantity leaves its "
    "stock, all or nothing; 409 (insufficient_stock) if any line is short. ADMINs and "
    "MANAGERs of the source.",
    TransferShipSerializer,
)
class TransferShipApi(_TransferStepApi):
    input_serializer = TransferShipSerializer
    service = staticmethod(services.ship_transfer)


@_step(
    "transfers_receive",
    "Receive goods of a transfer",
    "Goods arrived at the destination and join its stock; the transfer is RECEIVED when "
    "everything shipped has arrived, else PARTIALLY_RECEIVED. May be done in several parts. "
    "Anyone of the destination.",
    TransferReceiveSerializer,
)
class TransferReceiveApi(_TransferStepApi):
    input_serializer = TransferReceiveSerializer
    service = staticmethod(services.receive_transfer)


@_step(
    "transfers_close",
    "Close a transfer short",
    "The destination ends a transfer whose goods will not all arrive (-> RECEIVED); what "
    "is still outstanding is recorded as lost or damaged. Anyone of the destination.",
    TransferCloseSerializer,
)
class TransferCloseApi(_TransferStepApi):
    input_serializer = TransferCloseSerializer
    service = staticmethod(services.close_transfer)


@_step(
    "transfers_cancel",
    "Cancel a transfer",
    "Call a REQUESTED or APPROVED transfer off (-> CANCELLED) before it ships: ADMINs, and "
    "MANAGERs of the source or of the branch that requested it.",
    TransferCancelSerializer,
)
class TransferCancelApi(_TransferStepApi):
    input_serializer = TransferCancelSerializer
    service = staticmethod(services.cancel_transfer)


@_step(
    "transfers_reject",
    "Reject a request",
    "The source turns a REQUESTED transfer down (-> CANCELLED), saying why. ADMINs and "
    "MANAGERs of the source.",
    TransferRejectSerializer,
)
class TransferRejectApi(_TransferStepApi):
    input_serializer = TransferRejectSerializer
    service = staticmethod(services.reject_transfer)
