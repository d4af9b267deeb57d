"""The query parameters of the stock lists; each filters or sorts on an indexed column."""

import django_filters
from django.db.models import Q, QuerySet

from inventory_project.kernel.filters import FilterSet, StableOrderingFilter, strict_boolean
from stock.models import MovementKind, StockLevel, StockMovement


class StockLevelFilter(FilterSet):
    branch = django_filters.UUIDFilter(field_name="branch_id", help_text="One branch's levels.")
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        max_length=100,
        help_text="Part of the product's name, SKU or barcode, in any case.",
    )
    category = django_filters.UUIDFilter(field_name="product__category_id")
    min_on_hand = django_filters.NumberFilter(field_name="on_hand", lookup_expr="gte")
    max_on_hand = django_filters.NumberFilter(field_name="on_hand", lookup_expr="lte")
    below_threshold = strict_boolean(
        method="filter_below_threshold",
        label="Below threshold",
        help_text="true: only levels under their low-stock threshold; false: only the others.",
    )
    active = strict_boolean(
        field_name="product__is_active", help_text="Whether the product is active."
    )
    ordering = StableOrderingFilter(
        fields=(
            ("product__name", "name"),
            ("product__sku", "sku"),
            ("on_hand", "on_hand"),
            ("updated_at", "updated"),
        ),
        help_text="Sort by name, sku, on_hand or updated; prefix - for descending.",
    )

    class Meta:
        model = StockLevel
        fields = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(product__name__icontains=value)
            | Q(product__sku__icontains=value)
            | Q(product__barcode__icontains=value)
        )

    def filter_below_threshold(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.below_threshold() if value else queryset.at_or_above_threshold()


class MovementFilter(FilterSet):
    branch = django_filters.UUIDFilter(field_name="branch_id")
    product = django_filters.UUIDFilter(field_name="product_id")
    actor = django_filters.UUIDFilter(field_name="actor_id", help_text="Who recorded it.")
    kind = django_filters.ChoiceFilter(choices=MovementKind.choices)
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text="From this moment on (ISO 8601, inclusive).",
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        help_text="Before this moment (ISO 8601, exclusive).",
    )

    class Meta:
        model = StockMovement
        fields = []
