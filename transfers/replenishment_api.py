"""Replenishment in the API: the plan, and applying it.

GET answers the whole plan (levels under their minimum only, grouped per branch): it is one
computed document, not a list to page through. POST turns chosen suggestions into REQUESTED
transfers and DRAFT orders through ``transfers.replenishment.apply_plan``, once per
``Idempotency-Key``.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory_project.kernel.api import ApiErrorSerializer
from inventory_project.kernel.idempotency import IdempotentWriteApi
from transfers import replenishment
from transfers.replenishment_serializers import (
    AppliedSerializer,
    ApplySerializer,
    PlanSerializer,
)

BRANCH = OpenApiParameter(
    "branch",
    OpenApiTypes.UUID,
    OpenApiParameter.QUERY,
    required=False,
    description="Only this branch (where the caller orders stock); omitted: every branch the "
    "caller replenishes (every active branch for ADMINs).",
)
ERRORS = {
    403: ApiErrorSerializer,
    404: ApiErrorSerializer,
}


@extend_schema_view(
    get=extend_schema(
        operation_id="replenishment_plan",
        summary="What to replenish, and from where",
        description="For every stock level whose position (on hand plus open orders, drafts "
        "included, and transfers into the branch not yet received) is below its minimum: "
        "the need up to its maximum, covered first by transfers from active branches "
        "holding more than their own maximum and their promises (largest spare first), "
        "the rest from the level's supplier (its reorder rule's, else the product's "
        "preferred) in whole packs and at least the minimum order quantity, grouped per "
        "supplier into suggested draft orders. For MANAGERs (ORDER_STOCK) and ADMINs; "
        "others 403, a branch the caller does not replenish 404, an inactive one 400.",
        parameters=[BRANCH],
        responses={200: PlanSerializer, 400: ApiErrorSerializer, **ERRORS},
    )
)
class PlanApi(APIView):
    def get(self, request: Request) -> Response:
        branch = request.query_params.get("branch", "").strip() or None
        plan = replenishment.plan(user=request.user, branch=branch)
        return Response(PlanSerializer(plan).data)


@extend_schema_view(
    post=extend_schema(
        operation_id="replenishment_apply",
        summary="Create the suggested drafts",
        description="Turns the chosen suggestions (all when `choices` is omitted) into "
        "REQUESTED transfers, one per source and destination, and DRAFT purchase orders, one "
        "per branch and supplier, all or nothing. The plan is computed again first: the "
        "quantities are today's, and a chosen suggestion it no longer makes answers 409 "
        "(so does a plan with nothing to do). Send an `Idempotency-Key` to make retries "
        "safe. Answers what was made (201).",
        request=ApplySerializer,
        responses={
            201: AppliedSerializer,
            400: ApiErrorSerializer,
            409: ApiErrorSerializer,
            **ERRORS,
        },
    )
)
class ApplyApi(IdempotentWriteApi):
    input_serializer = ApplySerializer

    def apply(self, request: Request, data: dict) -> Response:
        applied = replenishment.apply_plan(
            actor=request.user, branch_id=data["branch"], choices=data["choices"]
        )
        return Response(AppliedSerializer(applied).data, status=status.HTTP_201_CREATED)
