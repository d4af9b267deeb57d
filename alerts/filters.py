"""The query parameters of the alert list; each filters on an indexed column."""

import django_filters

from alerts.models import AlertStatus, LowStockAlert
from inventory_project.kernel.filters import FilterSet, StableOrderingFilter


class AlertFilter(FilterSet):
    branch = django_filters.UUIDFilter(field_name="branch_id", help_text="One branch's alerts.")
    product = django_filters.UUIDFilter(field_name="product_id", help_text="One product's.")
    status = django_filters.MultipleChoiceFilter(
        choices=AlertStatus.choices,
        help_text="Repeat for several: status=OPEN&status=ACKNOWLEDGED is every unresolved one.",
    )
    ordering = StableOrderingFilter(
        fields=(("raised_at", "raised"),),
        help_text="raised (oldest first) or -raised (newest first, the default).",
    )

    class Meta:
        model = LowStockAlert
        fields = []
