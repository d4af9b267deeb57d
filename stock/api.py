"""Stock levels, the ledger, and the writes that change stock.

Views parse, call a service or selector, and render. Every write accepts an
``Idempotency-Key`` (see ``inventory_project.kernel.idempotency``) and is retried after a
transient database conflict; who may do what is decided by the services through
``accounts.permissions``.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory_project.kernel.api import KeysetPagination, valid_input
from inventory_project.kernel.db import retry_transient
from inventory_project.kernel.idempotency import IdempotentWriteApi, run_idempotent
from inventory_project.kernel.schema import IDEMPOTENCY_KEY
from stock import selectors, services
from stock.filters import MovementFilter, StockLevelFilter
from stock.serializers import (
    AdjustSerializer,
    BatchResultSerializer,
    BatchSerializer,
    CountSerializer,
    IssueSerializer,
    MovementSerializer,
    ReceiveSerializer,
    ReorderRuleSerializer,
    ReorderTermsSerializer,
    StockLevelSerializer,
    ThresholdBatchSerializer,
    ThresholdSerializer,
    level_list_data,
    movement_data,
    movement_list_data,
)

LEVEL_ID = OpenApiParameter("level_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
MOVEMENT_ID = OpenApiParameter("movement_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


# Levels -----------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        operation_id="stock_levels_list",
        summary="List stock levels",
        description="What each branch the caller may see holds of each product it has held. "
        "Searchable, filterable and sortable; paginated with a total counted up to 1,000 "
        "(`count_is_estimate` says when the list is longer). Pages follow one another by "
        "`cursor`: follow `next` and `previous` as they are, every page costs the same "
        "however deep. (`offset=N`, of older links, still answers its page.)",
    )
)
class StockLevelListApi(generics.ListAPIView):
    serializer_class = StockLevelSerializer
    filterset_class = StockLevelFilter
    pagination_class = KeysetPagination

    def get_queryset(self):
        return selectors.stock_levels(self.request.user)

    def list_rows(self, levels):
        return selectors.level_rows(levels)

    def list(self, request: Request, *args, **kwargs) -> Response:
        rows = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(level_list_data(rows))


class StockLevelDetailApi(generics.RetrieveAPIView):
    serializer_class = StockLevelSerializer
    lookup_url_kwarg = "level_id"

    def get_queryset(self):
        return selectors.stock_levels(self.request.user)

    @extend_schema(
        operation_id="stock_levels_retrieve", summary="One stock level", parameters=[LEVEL_ID]
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="stock_levels_set_threshold",
        summary="Set a level's low-stock threshold",
        parameters=[LEVEL_ID],
        description="ADMINs and the branch's MANAGERs. Only `low_stock_threshold` is "
        "accepted; null makes the level inherit the product's default.",
        request=ThresholdSerializer,
        responses={200: StockLevelSerializer},
    )
    def patch(self, request: Request, level_id: str) -> Response:
        level = self.get_object()
        data = valid_input(ThresholdSerializer, request)
        services.set_low_stock_threshold(
            actor=request.user,
            branch_id=level.branch_id,
            product_id=level.product_id,
            threshold=data["low_stock_threshold"],
        )
        return Response(self.get_serializer(self.get_object()).data)


@extend_schema_view(
    post=extend_schema(
        operation_id="stock_levels_set_thresholds",
        summary="Set many low-stock thresholds at a branch",
        description="ADMINs and the branch's MANAGERs: up to 500 products' thresholds at one "
        "branch, all or nothing (null inherits the product's default). Levels are created "
        "when new. Each level is re-evaluated: an alert is raised or resolved when the new "
        "threshold puts its stock on the other side. An error names its line, as batches do.",
        request=ThresholdBatchSerializer,
        responses={200: StockLevelSerializer(many=True)},
    )
)
class ThresholdBatchApi(APIView):
    def post(self, request: Request) -> Response:
        data = valid_input(ThresholdBatchSerializer, request)
        levels = retry_transient(services.set_low_stock_thresholds)(
            actor=request.user,
            branch_id=data["branch_id"],
            lines=[services.ThresholdLine(**line) for line in data["lines"]],
        )
        ids = [level.pk for level in levels]
        visible = selectors.stock_levels(request.user).filter(pk__in=ids)
        fresh = {level.pk: level for level in visible}
        return Response(StockLevelSerializer([fresh[pk] for pk in ids], many=True).data)


class ReorderRuleApi(APIView):
    """A level's reorder rule: read by whoever sees the level, set and removed by those who
    order stock at its branch."""

    def _level(self, request: Request, level_id: str):
        return generics.get_object_or_404(selectors.stock_levels(request.user), pk=level_id)

    def _terms(self, level_id) -> Response:
        terms = selectors.reorder_terms([level_id])[level_id]
        return Response(ReorderTermsSerializer({"level": level_id, **vars(terms)}).data)

    @extend_schema(
        operation_id="stock_levels_reorder_rule_retrieve",
        summary="A level's reorder terms",
        description="The level's reorder rule, or (`from_rule` false) the defaults in force "
        "without one: the threshold in force as minimum, twice that as maximum, the "
        "product's preferred supplier.",
        parameters=[LEVEL_ID],
        responses={200: ReorderTermsSerializer},
    )
    def get(self, request: Request, level_id: str) -> Response:
        return self._terms(self._level(request, level_id).pk)

    @extend_schema(
        operation_id="stock_levels_reorder_rule_set",
        summary="Set a level's reorder rule",
        description="ADMINs and the branch's MANAGERs (the order_stock right). Below "
        "`minimum`, replenishment brings the level up to `maximum` (not below the minimum: "
        "400 on `maximum`), buying from `supplier` (active and selling the product: 400 on "
        "`supplier`). Replaces the rule there was. Send an `Idempotency-Key` to make retries "
        "safe. Answers the terms now in force.",
        parameters=[LEVEL_ID, IDEMPOTENCY_KEY],
        request=ReorderRuleSerializer,
        responses={200: ReorderTermsSerializer},
    )
    def put(self, request: Request, level_id: str) -> Response:
        level = self._level(request, level_id)
        data = valid_input(ReorderRuleSerializer, request)

        def apply() -> Response:
            services.set_reorder_rule(
                actor=request.user,
                branch_id=level.branch_id,
                product_id=level.product_id,
                **data,
            )
            return self._terms(level.pk)

        return run_idempotent(request, apply)

    @extend_schema(
        operation_id="stock_levels_reorder_rule_destroy",
        summary="Remove a level's reorder rule",
        description="ADMINs and the branch's MANAGERs: the defaults apply again. Removing a "
        "rule that is not there changes nothing. Send an `Idempotency-Key` to make retries "
        "safe.",
        parameters=[LEVEL_ID, IDEMPOTENCY_KEY],
        request=None,
        responses={204: None},
    )
    def delete(self, request: Request, level_id: str) -> Response:
        level = self._level(request, level_id)

        def apply() -> Response:
            services.clear_reorder_rule(
                actor=request.user, branch_id=level.branch_id, product_id=level.product_id
            )
            return Response(status=status.HTTP_204_NO_CONTENT)

        return run_idempotent(request, apply)


# Ledger -----------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        operation_id="movements_list",
        summary="The stock ledger",
        description="Movements of the branches the caller may see, newest first. Pages follow "
        "one another by `cursor`: follow `next` and `previous` as they are.",
    )
)
class MovementListApi(generics.ListAPIView):
    serializer_class = MovementSerializer
    filterset_class = MovementFilter
    pagination_class = KeysetPagination

    def get_queryset(self):
        return selectors.movements(self.request.user)

    def list_rows(self, ledger):
        return selectors.movement_rows(ledger)

    def list(self, request: Request, *args, **kwargs) -> Response:
        rows = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(movement_list_data(rows))


@extend_schema_view(
    get=extend_schema(
        operation_id="movements_retrieve", summary="One movement", parameters=[MOVEMENT_ID]
    )
)
class MovementDetailApi(generics.RetrieveAPIView):
    serializer_class = MovementSerializer
    lookup_url_kwarg = "movement_id"

    def get_queryset(self):
        return selectors.movements(self.request.user)


# Writes -----------------------------------------------------------------------------------


class _StockWriteApi(IdempotentWriteApi):
    """Answer 201 with the movement the service wrote."""

    def apply(self, request: Request, data: dict) -> Response:
        movement = self.service(actor=request.user, **data)
        return Response(movement_data(movement), status=status.HTTP_201_CREATED)


def _single_write(operation_id: str, summary: str, description: str, serializer: type):
    return extend_schema_view(
        post=extend_schema(
            operation_id=operation_id,
            summary=summary,
            description=description
            + " Send an `Idempotency-Key` to make retries safe. Answers the movement written;"
            " its `on_hand_after` is the level's new on hand.",
            request=serializer,
            responses={201: MovementSerializer},
        )
    )


@_single_write(
    "stock_receive", "Receive stock", "Goods arrived at a branch: on hand grows.", ReceiveSerializer
)
class ReceiveApi(_StockWriteApi):
    input_serializer = ReceiveSerializer
    service = staticmethod(services.receive_stock)


@_single_write(
    "stock_issue",
    "Issue stock",
    "Goods left a branch: on hand shrinks; refused (409 insufficient_stock) when the branch "
    "holds less.",
    IssueSerializer,
)
class IssueApi(_StockWriteApi):
    input_serializer = IssueSerializer
    service = staticmethod(services.issue_stock)


@_single_write(
    "stock_adjust",
    "Adjust stock",
    "Correct on hand by a signed amount for a stated reason; OTHER needs a note.",
    AdjustSerializer,
)
class AdjustApi(_StockWriteApi):
    input_serializer = AdjustSerializer
    service = staticmethod(services.adjust_stock)


@_single_write(
    "stock_count",
    "Count stock",
    "A stocktake: on hand becomes the counted quantity; the movement holds the difference "
    "(zero when the books were right).",
    CountSerializer,
)
class CountApi(_StockWriteApi):
    input_serializer = CountSerializer
    service = staticmethod(services.count_stock)


@extend_schema_view(
    post=extend_schema(
        operation_id="stock_batch",
        summary="Apply several lines at once",
        description="A scanner session: up to 500 lines of one kind at one branch, applied all "
        "or nothing. An error names the line (`fields` key `lines.<index>.<field>`, message "
        "`Line <n>: ...`); nothing is written then. A product may appear once."
        " Send an `Idempotency-Key` to make retries safe.",
        request=BatchSerializer,
        responses={201: BatchResultSerializer},
    )
)
class BatchApi(_StockWriteApi):
    input_serializer = BatchSerializer

    def apply(self, request: Request, data: dict) -> Response:
        movements = services.record_stock_batch(
            actor=request.user,
            branch_id=data["branch_id"],
            kind=data["kind"],
            lines=[services.MovementLine(**line) for line in data["lines"]],
        )
        body = {"movements": [movement_data(movement) for movement in movements]}
        return Response(body, status=status.HTTP_201_CREATED)
