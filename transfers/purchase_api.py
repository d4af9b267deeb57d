"""Purchase orders: the list (and drafting one), one order (and editing a draft), and one
endpoint per step.

Views parse, call a service in ``transfers.purchasing``, and answer the order as it now
stands. Every write accepts an ``Idempotency-Key`` (see
``inventory_project.kernel.idempotency``) and is retried after a transient database
conflict; who may take which step, and when, is decided by the services alone, from the
table in ``transfers.purchase_workflow``. Every order answered lists the steps the caller may
take on it now (``available_steps``).
"""

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    OpenApiTypes,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from inventory_project.kernel.api import ApiErrorSerializer, KeysetPagination, valid_input
from inventory_project.kernel.idempotency import IdempotentWriteApi, run_idempotent
from inventory_project.kernel.schema import ERRORS, IDEMPOTENCY_KEY
from transfers import purchase_selectors, purchasing
from transfers.models import PurchaseOrder
from transfers.purchase_filters import PurchaseOrderFilter
from transfers.purchase_serializers import (
    PurchaseOrderCancelSerializer,
    PurchaseOrderCloseSerializer,
    PurchaseOrderCreateSerializer,
    PurchaseOrderDetailSerializer,
    PurchaseOrderReceiveSerializer,
    PurchaseOrderSendSerializer,
    PurchaseOrderSerializer,
    PurchaseOrderUpdateSerializer,
)

ORDER_ID = OpenApiParameter(
    "order_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The order's id."
)
IDEMPOTENT = " Send an `Idempotency-Key` to make retries safe."


def _answer(request: Request, order: PurchaseOrder, code: int = status.HTTP_200_OK) -> Response:
    return _render(request, purchase_selectors.order_after_step(order), code)


def _render(request: Request, detail: PurchaseOrder, code: int = status.HTTP_200_OK) -> Response:
    context = {"rights": purchase_selectors.step_rights(request.user, detail)}
    return Response(PurchaseOrderDetailSerializer(detail, context=context).data, status=code)


# The list, and drafting -------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        operation_id="purchase_orders_list",
        summary="List purchase orders",
        description="Orders of the branches the caller may see, newest first. Filter by "
        "branch, supplier and status. Pages follow one another by `cursor`: follow `next` "
        "and `previous` as they are.",
    ),
    post=extend_schema(
        operation_id="purchase_orders_draft",
        summary="Draft a purchase order",
        description="ADMINs and MANAGERs of the branch draft an order to one active supplier "
        "(-> DRAFT). Every product must be one the supplier sells, in whole packs and at "
        "least its minimum order quantity; an error in a line names it (`fields` key "
        "`lines.<index>.<field>`). Prices default to the supplier's; the currency is the "
        "supplier's." + IDEMPOTENT + " Answers the new order.",
        request=PurchaseOrderCreateSerializer,
        responses={201: PurchaseOrderDetailSerializer},
    ),
)
class PurchaseOrderListApi(IdempotentWriteApi, generics.ListAPIView):
    serializer_class = PurchaseOrderSerializer
    filterset_class = PurchaseOrderFilter
    pagination_class = KeysetPagination
    input_serializer = PurchaseOrderCreateSerializer

    def get_queryset(self):
        return purchase_selectors.order_list(self.request.user)

    def get_serializer_context(self) -> dict:
        # The reader's rights at every branch in one query, not one per row.
        return {
            **super().get_serializer_context(),
            "rights": purchase_selectors.step_rights(self.request.user),
        }

    def apply(self, request: Request, data: dict) -> Response:
        order = purchasing.draft_purchase_order(
            actor=request.user,
            branch_id=data["branch_id"],
            supplier_id=data["supplier_id"],
            items=[purchasing.OrderItem(**item) for item in data["items"]],
            note=data["note"],
        )
        return _answer(request, order, status.HTTP_201_CREATED)


# One order, and editing a draft -----------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        operation_id="purchase_orders_retrieve",
        summary="One purchase order",
        description="With its lines (each with its receipts) and its history, oldest step first.",
        parameters=[ORDER_ID],
        responses={200: PurchaseOrderDetailSerializer},
    ),
    patch=extend_schema(
        operation_id="purchase_orders_edit",
        summary="Edit a draft",
        description="Replace a DRAFT's lines (checked as when drafting) and, when given, its "
        "note. ADMINs and MANAGERs of the branch; an order no longer a draft answers 409 "
        "(illegal_transition)." + IDEMPOTENT,
        parameters=[ORDER_ID, IDEMPOTENCY_KEY],
        request=PurchaseOrderUpdateSerializer,
        responses={
            200: PurchaseOrderDetailSerializer,
            422: OpenApiResponse(ApiErrorSerializer, description=ERRORS["422"]),
        },
    ),
)
class PurchaseOrderDetailApi(generics.GenericAPIView):
    # For the schema: the answer's shape (the views answer through _render).
    serializer_class = PurchaseOrderDetailSerializer

    def get(self, request: Request, order_id: str) -> Response:
        return _render(request, purchase_selectors.order_detail(request.user, order_id))

    def patch(self, request: Request, order_id: str) -> Response:
        data = valid_input(PurchaseOrderUpdateSerializer, request)

        def apply() -> Response:
            order = purchasing.update_purchase_order(
                actor=request.user,
                order_id=order_id,
                items=[purchasing.OrderItem(**item) for item in data["items"]],
                note=data.get("note"),
            )
            return _answer(request, order)

        return run_idempotent(request, apply)


# Steps ------------------------------------------------------------------------------------


class _OrderStepApi(IdempotentWriteApi):
    """Apply the step, answer the order as it now stands."""

    service = None

    def apply(self, request: Request, data: dict, order_id: str) -> Response:
        order = self.service(actor=request.user, order_id=order_id, **data)
        return _answer(request, order)


def _step(operation_id: str, summary: str, description: str, serializer: type):
    return extend_schema_view(
        post=extend_schema(
            operation_id=operation_id,
            summary=summary,
            description=description
            + " An order in another state answers 409 (illegal_transition); one of a branch "
            "the caller cannot see, 404." + IDEMPOTENT + " Answers the order as it now stands.",
            parameters=[ORDER_ID],
            request=serializer,
            responses={200: PurchaseOrderDetailSerializer},
        )
    )


@_step(
    "purchase_orders_send",
    "Send an order to its supplier",
    "DRAFT -> SENT: the order is e-mailed to the supplier once (with the order as CSV) and "
    "expected after the supplier's lead time. A supplier without an e-mail address answers "
    "400 naming `supplier`, and the order stays a draft. ADMINs and MANAGERs of the branch.",
    PurchaseOrderSendSerializer,
)
class PurchaseOrderSendApi(_OrderStepApi):
    input_serializer = PurchaseOrderSendSerializer
    service = staticmethod(purchasing.send_purchase_order)


class _ReceiveApi(_OrderStepApi):
    def apply(self, request: Request, data: dict, order_id: str) -> Response:
        order = purchasing.receive_purchase_order(
            actor=request.user,
            order_id=order_id,
            items=[purchasing.ReceiptItem(**item) for item in data["items"]],
            note=data["note"],
        )
        return _answer(request, order)


@_step(
    "purchase_orders_receive",
    "Receive goods against an order",
    "Goods of a SENT or PARTIALLY_RECEIVED order arrived and join the branch's stock as "
    "receipts at their unit cost; the order is RECEIVED once every line received what was "
    "ordered, else PARTIALLY_RECEIVED. May be done in parts. More than ordered beyond the "
    "tolerance needs a `reason` on its line. Anyone of the branch who receives stock "
    "(STAFF too).",
    PurchaseOrderReceiveSerializer,
)
class PurchaseOrderReceiveApi(_ReceiveApi):
    input_serializer = PurchaseOrderReceiveSerializer


@_step(
    "purchase_orders_close",
    "Close an order short",
    "PARTIALLY_RECEIVED -> RECEIVED: the rest will not come; the reason is kept on the "
    "order. ADMINs and MANAGERs of the branch.",
    PurchaseOrderCloseSerializer,
)
class PurchaseOrderCloseApi(_OrderStepApi):
    input_serializer = PurchaseOrderCloseSerializer
    service = staticmethod(purchasing.close_purchase_order)


@_step(
    "purchase_orders_cancel",
    "Cancel an order",
    "A DRAFT or SENT order that received nothing -> CANCELLED. ADMINs and MANAGERs of the branch.",
    PurchaseOrderCancelSerializer,
)
class PurchaseOrderCancelApi(_OrderStepApi):
    input_serializer = PurchaseOrderCancelSerializer
    service = staticmethod(purchasing.cancel_purchase_order)
