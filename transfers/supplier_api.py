"""Suppliers in the API: ADMINs, and whoever may order stock at some branch, read them;
ADMINs change them (decided by catalog.services). Every write takes an Idempotency-Key."""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import require_admin
from catalog import services
from catalog.models import Supplier, SupplierProduct
from inventory_project.kernel.api import ApiErrorSerializer, KeysetPagination, valid_input
from inventory_project.kernel.idempotency import IdempotentWriteApi, run_idempotent
from inventory_project.kernel.schema import ERRORS, IDEMPOTENCY_KEY
from transfers import supplier_selectors as selectors
from transfers.supplier_serializers import (
    SupplierCreateSerializer,
    SupplierListQuerySerializer,
    SupplierProductSerializer,
    SupplierProductSetSerializer,
    SupplierSerializer,
    SupplierUpdateSerializer,
)

SUPPLIER_ID = OpenApiParameter(
    "supplier_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The supplier's id."
)
PRODUCT_ID = OpenApiParameter(
    "product_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The product's id."
)
READERS = " ADMINs, and anyone who may order stock at a branch (MANAGERs); others 403."
ONLY_ADMINS = gettext_lazy("Only an administrator can change suppliers.")
# The schema documents the key's 422 on POSTs by itself; these writes are PATCH and DELETE.
KEY_REUSED = OpenApiResponse(ApiErrorSerializer, description=ERRORS["422"])
IDEMPOTENT = " Send an `Idempotency-Key` to make retries safe."


class SupplierListApi(generics.ListAPIView, IdempotentWriteApi):
    """Every supplier, by name; ADMINs add one."""

    serializer_class = SupplierSerializer
    pagination_class = KeysetPagination
    input_serializer = SupplierCreateSerializer

    def get_queryset(self) -> QuerySet[Supplier]:
        if getattr(self, "swagger_fake_view", False):
            return Supplier.objects.none()
        query = SupplierListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        active = query.validated_data.get("is_active")
        return selectors.supplier_list(
            q=query.validated_data.get("q", ""),
            is_active=None if active is None else active == "true",
        )

    @extend_schema(
        operation_id="suppliers_list",
        summary="List suppliers",
        description="By name, with how many products each sells; search with `q`, filter "
        "with `is_active`." + READERS,
        parameters=[SupplierListQuerySerializer],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        selectors.require_supplier_reader(request.user)
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="suppliers_create",
        summary="Add a supplier (ADMINs)",
        description="Code and name must be unused whatever their case, the currency an ISO "
        "4217 code, the lead time 0 to 365 days (400 naming the field)." + IDEMPOTENT,
        request=SupplierCreateSerializer,
        responses={201: SupplierSerializer},
    )
    def post(self, request: Request, **url_arguments: str) -> Response:
        # Refused before the body is read: the body's faults are no one else's business.
        require_admin(request.user, str(ONLY_ADMINS))
        return IdempotentWriteApi.post(self, request, **url_arguments)

    def apply(self, request: Request, data: dict) -> Response:
        supplier = services.create_supplier(actor=request.user, **data)
        return Response(
            SupplierSerializer(selectors.get_supplier(supplier_id=supplier.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class SupplierDetailApi(APIView):
    """One supplier; ADMINs change it."""

    @extend_schema(
        operation_id="suppliers_retrieve",
        summary="One supplier",
        description=READERS.strip(),
        parameters=[SUPPLIER_ID],
        responses={200: SupplierSerializer},
    )
    def get(self, request: Request, supplier_id: str) -> Response:
        selectors.require_supplier_reader(request.user)
        return Response(SupplierSerializer(selectors.get_supplier(supplier_id=supplier_id)).data)

    @extend_schema(
        operation_id="suppliers_partial_update",
        summary="Change a supplier (ADMINs)",
        description="Changes only the fields given; `is_active` false deactivates the "
        "supplier (it takes no new orders)." + IDEMPOTENT,
        parameters=[SUPPLIER_ID, IDEMPOTENCY_KEY],
        request=SupplierUpdateSerializer,
        responses={200: SupplierSerializer, 422: KEY_REUSED},
    )
    def patch(self, request: Request, supplier_id: str) -> Response:
        require_admin(request.user, str(ONLY_ADMINS))
        changes = valid_input(SupplierUpdateSerializer, request)

        def apply() -> Response:
            supplier = services.update_supplier(
                actor=request.user, supplier_id=supplier_id, **changes
            )
            return Response(
                SupplierSerializer(selectors.get_supplier(supplier_id=supplier.pk)).data
            )

        return run_idempotent(request, apply)


class SupplierProductListApi(generics.ListAPIView, IdempotentWriteApi):
    """What one supplier sells, by the product's SKU; ADMINs set a product's line."""

    serializer_class = SupplierProductSerializer
    pagination_class = KeysetPagination
    input_serializer = SupplierProductSetSerializer

    def get_queryset(self) -> QuerySet[SupplierProduct]:
        if getattr(self, "swagger_fake_view", False):  # the schema, drawn without a request
            return SupplierProduct.objects.none()
        supplier = selectors.get_supplier(supplier_id=self.kwargs["supplier_id"])
        return selectors.supplier_products(supplier)

    @extend_schema(
        operation_id="suppliers_products_list",
        summary="What a supplier sells",
        description="Each product with the supplier's SKU, pack size, unit price and minimum "
        "order quantity." + READERS,
        parameters=[SUPPLIER_ID],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        selectors.require_supplier_reader(request.user)
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="suppliers_products_set",
        summary="Set how a supplier sells a product (ADMINs)",
        description="Adds the product's line, or replaces the one there. Pack size above "
        "zero, price and minimum order quantity not negative; whole numbers for countable "
        "products (400 naming the field). `is_preferred` true takes the flag from the "
        "product's other suppliers." + IDEMPOTENT + " Answers the line.",
        parameters=[SUPPLIER_ID],
        request=SupplierProductSetSerializer,
        responses={200: SupplierProductSerializer},
    )
    def post(self, request: Request, **url_arguments: str) -> Response:
        require_admin(request.user, str(ONLY_ADMINS))
        return IdempotentWriteApi.post(self, request, **url_arguments)

    def apply(self, request: Request, data: dict, supplier_id: str) -> Response:
        line = services.set_supplier_product(
            actor=request.user, supplier_id=supplier_id, product_id=data.pop("product"), **data
        )
        return Response(SupplierProductSerializer(line).data)


class SupplierProductDetailApi(APIView):
    """One product a supplier sells: ADMINs remove it."""

    @extend_schema(
        operation_id="suppliers_products_destroy",
        summary="Stop buying a product from a supplier (ADMINs)",
        description="Removes the supplier's line for the product; orders already drafted "
        "keep theirs. 404 when the supplier does not sell it." + IDEMPOTENT,
        parameters=[SUPPLIER_ID, PRODUCT_ID, IDEMPOTENCY_KEY],
        request=None,
        responses={204: None, 422: KEY_REUSED},
    )
    def delete(self, request: Request, supplier_id: str, product_id: str) -> Response:
        def apply() -> Response:
            services.remove_supplier_product(
                actor=request.user, supplier_id=supplier_id, product_id=product_id
            )
            return Response(status=status.HTTP_204_NO_CONTENT)

        return run_idempotent(request, apply)
