"""The query parameters of the purchase order list; each filters on an indexed column."""

import django_filters

from inventory_project.kernel.filters import FilterSet, StableOrderingFilter
from transfers.models import PurchaseOrder, PurchaseOrderStatus


class PurchaseOrderFilter(FilterSet):
    branch = django_filters.UUIDFilter(field_name="branch_id", help_text="Orders of this branch.")
    supplier = django_filters.UUIDFilter(
        field_name="supplier_id", help_text="Orders to this supplier."
    )
    status = django_filters.ChoiceFilter(choices=PurchaseOrderStatus.choices)
    ordering = StableOrderingFilter(
        fields=(("created_at", "created"),),
        help_text="created (oldest first) or -created (newest first, the default).",
    )

    class Meta:
        model = PurchaseOrder
        fields = []
