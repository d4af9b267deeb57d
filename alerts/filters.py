"""The query parameters of the alert list."""

import django_filters
from django.db.models import Q, QuerySet

from alerts.models import AlertStatus, LowStockAlert
from inventory_project.kernel.filters import FilterSet, StableOrderingFilter


class AlertFilter(FilterSet):
    branch = django_filters.UUIDFilter(field_name="branch_id", help_text="One branch's alerts.")
    product = django_filters.UUIDFilter(field_name="product_id", help_text="One product's.")
    status = django_filters.MultipleChoiceFilter(
        choices=AlertStatus.choices,
        help_text="Repeat for several: status=OPEN&status=ACKNOWLEDGED is every unresolved one.",
    )
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        max_length=100,
        help_text="Part of the product's SKU or name, in any case.",
    )
    ordering = StableOrderingFilter(
        fields=(
            ("raised_at", "raised"),
            ("product__name", "name"),
            ("branch__code", "branch"),
            ("on_hand_at_trigger", "on_hand_at_trigger"),
        ),
        help_text="Sort by raised, name (the product's), branch (its code) or "
        "on_hand_at_trigger; prefix - for descending. Newest raised first by default.",
    )

    class Meta:
        model = LowStockAlert
        fields = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return search(queryset, value)


def search(alerts: QuerySet, text: str) -> QuerySet:
    """The alerts whose product's SKU or name contains ``text``, in any case."""
    return alerts.filter(Q(product__sku__icontains=text) | Q(product__name__icontains=text))
