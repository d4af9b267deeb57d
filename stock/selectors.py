from decimal import Decimal

from django.db.models import Count, DecimalField, F, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from accounts import permissions
from accounts.permissions import AnyUser
from catalog.models import QUANTITY_DECIMAL_PLACES
from stock.models import StockLevel, StockMovement


def ledger_discrepancies() -> QuerySet[StockLevel]:
    """Stock levels whose on hand or version disagrees with their movements.

    Each row carries ``ledger_total`` (sum of deltas) and ``movement_count``. A consistent
    ledger returns nothing: on hand equals the sum of deltas, version the number of movements.
    """
    return (
        StockLevel.objects.select_related("branch", "product")
        .annotate(
            ledger_total=Coalesce(
                Sum("movements__delta"),
                Value(Decimal("0")),
                output_field=DecimalField(max_digits=30, decimal_places=QUANTITY_DECIMAL_PLACES),
            ),
            movement_count=Count("movements"),
        )
        .exclude(on_hand=F("ledger_total"), version=F("movement_count"))
        .order_by("branch__code", "product__sku")
    )


def stock_levels(user: AnyUser) -> QuerySet[StockLevel]:
    """The levels of every branch ``user`` may see, with what a list shows of each."""
    # By product name first: within one branch the product name index can serve the order.
    levels = StockLevel.objects.select_related("branch", "product").order_by(
        "product__name", "branch__code", "pk"
    )
    return permissions.scope(levels, user)


def movements(user: AnyUser) -> QuerySet[StockMovement]:
    """The ledger of every branch ``user`` may see, newest first."""
    ledger = StockMovement.objects.select_related("branch", "product", "actor").order_by(
        "-created_at", "-id"
    )
    return permissions.scope(ledger, user)
