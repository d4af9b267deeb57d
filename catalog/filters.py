from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from catalog.models import Category, Product
from inventory_project.kernel.filters import StableOrderingFilter, strict_boolean


class CategoryFilter(filters.FilterSet):
    q = filters.CharFilter(
        method="search", label="Search", help_text="Name contains this, whatever its case."
    )

    class Meta:
        model = Category
        fields = ["q"]

    def search(self, queryset: QuerySet[Category], name: str, value: str) -> QuerySet[Category]:
        return queryset.filter(name__icontains=value)


class ProductFilter(filters.FilterSet):
    category = filters.UUIDFilter(help_text="Only products of this category.")
    is_active = strict_boolean(help_text="Only active (true) or inactive (false) ones.")
    q = filters.CharFilter(
        method="search",
        label="Search",
        help_text="Name, SKU or barcode contains this, whatever its case.",
    )
    ordering = StableOrderingFilter(
        fields=[("name", "name"), ("sku", "sku"), ("updated_at", "updated")],
        help_text="name, sku or updated; prefix with - for descending. By name if not given.",
    )

    class Meta:
        model = Product
        fields = ["category", "is_active", "q"]

    def search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        return queryset.filter(
            Q(name__icontains=value) | Q(sku__icontains=value) | Q(barcode__icontains=value)
        )
