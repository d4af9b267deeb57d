"""Branches: everyone signed in lists and reads the branches they may see; ADMINs open,
change and remove them.

Who may see a branch is the permission module's answer, reached through
``inventory_project.kernel.access`` (branches sit below accounts); who may change one is
decided by the branches services (ADMINs only).
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from branches import selectors, services
from branches.errors import UnknownBranch
from branches.filters import BranchFilter, DirectoryFilter
from branches.models import Branch
from branches.serializers import (
    BranchCreateSerializer,
    BranchDirectorySerializer,
    BranchSerializer,
    BranchUpdateSerializer,
)
from inventory_project.kernel import access
from inventory_project.kernel.api import Pagination, valid_input

BRANCH_ID = OpenApiParameter(
    "branch_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The branch's id."
)


class BranchListApi(generics.ListAPIView):
    """The branches the caller may see (all of them for ADMINs), by code."""

    queryset = Branch.objects.all()
    serializer_class = BranchSerializer
    pagination_class = Pagination
    filterset_class = BranchFilter

    def get_queryset(self) -> QuerySet[Branch]:
        return _visible(self.request.user).order_by("code")

    @extend_schema(
        operation_id="branches_list",
        summary="List the branches the caller may see",
        description="ADMINs see every branch; others the branches where they have a role. "
        "Ordered by code.",
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="branches_create",
        summary="Open a branch (ADMINs)",
        description="The code and the name (whatever its case) must be unused (400 naming "
        "the field).",
        request=BranchCreateSerializer,
        responses={201: BranchSerializer},
    )
    def post(self, request: Request) -> Response:
        data = valid_input(BranchCreateSerializer, request)
        branch = services.create_branch(actor=request.user, **data)
        return Response(BranchSerializer(branch).data, status=status.HTTP_201_CREATED)


class BranchDirectoryApi(generics.ListAPIView):
    """Every active branch, by code, with only its public fields: anyone signed in looks
    up a transfer partner here, whatever branches they belong to."""

    queryset = Branch.objects.none()
    serializer_class = BranchDirectorySerializer
    pagination_class = Pagination
    filterset_class = DirectoryFilter

    def get_queryset(self) -> QuerySet[Branch]:
        return selectors.directory()

    @extend_schema(
        operation_id="branches_directory",
        summary="The branch directory",
        description="Every active branch, ordered by code, for anyone signed in: id, code, "
        "name, kind (SHOP or WAREHOUSE), city and address only. Stock, people and history "
        "of a branch stay behind `branches/` and the other endpoints, which answer only the "
        "branches the caller may see.",
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class BranchDetailApi(APIView):
    """One branch the caller may see; ADMINs change or remove it."""

    @extend_schema(
        operation_id="branches_retrieve",
        summary="One branch",
        description="A branch the caller may not see answers 404, as one that does not exist.",
        parameters=[BRANCH_ID],
        responses={200: BranchSerializer},
    )
    def get(self, request: Request, branch_id: str) -> Response:
        return Response(BranchSerializer(_visible_branch(request.user, branch_id)).data)

    @extend_schema(
        operation_id="branches_partial_update",
        summary="Change a branch (ADMINs)",
        description="Changes only the fields given. Deactivate a branch to stop its stock "
        "movements while keeping its history.",
        parameters=[BRANCH_ID],
        request=BranchUpdateSerializer,
        responses={200: BranchSerializer},
    )
    def patch(self, request: Request, branch_id: str) -> Response:
        branch = _visible_branch(request.user, branch_id)
        changes = valid_input(BranchUpdateSerializer, request)
        branch = services.update_branch(actor=request.user, branch_id=branch.pk, **changes)
        return Response(BranchSerializer(branch).data)

    @extend_schema(
        operation_id="branches_destroy",
        summary="Remove a branch (ADMINs)",
        description="Only a branch without stock, stock history or staff; otherwise 409: "
        "deactivate it instead.",
        parameters=[BRANCH_ID],
        request=None,
        responses={204: None},
    )
    def delete(self, request: Request, branch_id: str) -> Response:
        branch = _visible_branch(request.user, branch_id)
        services.delete_branch(actor=request.user, branch_id=branch.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _visible(user: Any) -> QuerySet[Branch]:
    return access.scope(Branch.objects.all(), user, via="pk")


def _visible_branch(user: Any, branch_id: str) -> Branch:
    """The branch, if ``user`` may see it; one they may not see does not exist for them."""
    try:
        return _visible(user).get(pk=branch_id)
    except (Branch.DoesNotExist, ValidationError, ValueError):
        raise UnknownBranch(f"No branch with id {branch_id}.") from None
