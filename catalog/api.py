"""The catalog: everyone signed in reads categories and products; ADMINs change them.

Who may change the catalog is decided by the catalog services (ADMINs only).
"""

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors, services
from catalog.filters import CategoryFilter, ProductFilter
from catalog.models import Category, Product
from catalog.serializers import (
    CategoryCreateSerializer,
    CategorySerializer,
    CategoryUpdateSerializer,
    ProductCreateSerializer,
    ProductLookupSerializer,
    ProductSerializer,
    ProductUpdateSerializer,
)
from inventory_project.kernel.api import Pagination, valid_input

CATEGORY_ID = OpenApiParameter(
    "category_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The category's id."
)
PRODUCT_ID = OpenApiParameter(
    "product_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The product's id."
)

# Categories -------------------------------------------------------------------------------


class CategoryListApi(generics.ListAPIView):
    """Every category, by name."""

    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    pagination_class = Pagination
    filterset_class = CategoryFilter

    def get_queryset(self) -> QuerySet[Category]:
        return selectors.category_list()

    @extend_schema(operation_id="categories_list", summary="List categories")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="categories_create",
        summary="Add a category (ADMINs)",
        description="The name must be unused, whatever its case (400 naming the field).",
        request=CategoryCreateSerializer,
        responses={201: CategorySerializer},
    )
    def post(self, request: Request) -> Response:
        data = valid_input(CategoryCreateSerializer, request)
        category = services.create_category(actor=request.user, **data)
        return Response(CategorySerializer(category).data, status=status.HTTP_201_CREATED)


class CategoryDetailApi(APIView):
    """One category; ADMINs change or remove it."""

    @extend_schema(
        operation_id="categories_retrieve",
        summary="One category",
        parameters=[CATEGORY_ID],
        responses={200: CategorySerializer},
    )
    def get(self, request: Request, category_id: str) -> Response:
        return Response(CategorySerializer(selectors.get_category(category_id=category_id)).data)

    @extend_schema(
        operation_id="categories_partial_update",
        summary="Change a category (ADMINs)",
        description="Changes only the fields given.",
        parameters=[CATEGORY_ID],
        request=CategoryUpdateSerializer,
        responses={200: CategorySerializer},
    )
    def patch(self, request: Request, category_id: str) -> Response:
        changes = valid_input(CategoryUpdateSerializer, request)
        category = services.update_category(actor=request.user, category_id=category_id, **changes)
        return Response(CategorySerializer(category).data)

    @extend_schema(
        operation_id="categories_destroy",
        summary="Remove a category (ADMINs)",
        description="Only an empty one; a category that still has products answers 409.",
        parameters=[CATEGORY_ID],
        request=None,
        responses={204: None},
    )
    def delete(self, request: Request, category_id: str) -> Response:
        services.delete_category(actor=request.user, category_id=category_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Products ---------------------------------------------------------------------------------


class ProductListApi(generics.ListAPIView):
    """Every product with its category, by name unless ordered otherwise."""

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    pagination_class = Pagination
    filterset_class = ProductFilter

    def get_queryset(self) -> QuerySet[Product]:
        return selectors.product_list()

    @extend_schema(operation_id="products_list", summary="List products")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="products_create",
        summary="Add a product (ADMINs)",
        description="The SKU (whatever its case) and the barcode must be unused (400 naming "
        "the field); a blank barcode means none.",
        request=ProductCreateSerializer,
        responses={201: ProductSerializer},
    )
    def post(self, request: Request) -> Response:
        data = valid_input(ProductCreateSerializer, request)
        product = services.create_product(
            actor=request.user, category_id=data.pop("category"), **data
        )
        return Response(
            ProductSerializer(selectors.get_product(product_id=product.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class ProductDetailApi(APIView):
    """One product; ADMINs change or remove it."""

    @extend_schema(
        operation_id="products_retrieve",
        summary="One product",
        parameters=[PRODUCT_ID],
        responses={200: ProductSerializer},
    )
    def get(self, request: Request, product_id: str) -> Response:
        return Response(ProductSerializer(selectors.get_product(product_id=product_id)).data)

    @extend_schema(
        operation_id="products_partial_update",
        summary="Change a product (ADMINs)",
        description="Changes only the fields given. The unit of a product with stock "
        "history is fixed (409).",
        parameters=[PRODUCT_ID],
        request=ProductUpdateSerializer,
        responses={200: ProductSerializer},
    )
    def patch(self, request: Request, product_id: str) -> Response:
        changes = valid_input(ProductUpdateSerializer, request)
        if "category" in changes:
            changes["category_id"] = changes.pop("category")
        product = services.update_product(actor=request.user, product_id=product_id, **changes)
        return Response(ProductSerializer(selectors.get_product(product_id=product.pk)).data)

    @extend_schema(
        operation_id="products_destroy",
        summary="Remove a product (ADMINs)",
        description="Only one no branch ever held; otherwise 409: deactivate it instead.",
        parameters=[PRODUCT_ID],
        request=None,
        responses={204: None},
    )
    def delete(self, request: Request, product_id: str) -> Response:
        services.delete_product(actor=request.user, product_id=product_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductLookupApi(APIView):
    """Find the product a scanner read or a person typed."""

    @extend_schema(
        operation_id="products_lookup",
        summary="Find a product by barcode or SKU",
        description="Give exactly one of `barcode` (exactly as printed) and `sku` (whatever "
        "its case); 400 otherwise, 404 when no product has it. Inactive products are found "
        "too.",
        parameters=[ProductLookupSerializer],
        responses={200: ProductSerializer},
    )
    def get(self, request: Request) -> Response:
        query = ProductLookupSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(ProductSerializer(selectors.product_by_code(**query.validated_data)).data)
