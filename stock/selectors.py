import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    UUIDField,
    Value,
)
from django.db.models.functions import Coalesce

from accounts import permissions
from accounts.permissions import AnyUser
from catalog.models import QUANTITY_DECIMAL_PLACES, SupplierProduct
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


# What a list shows of each level, read as plain values: a page of 50 levels built as model
# instances with their branch, product and category, then serialised field by field, cost
# more than the query that read them.
LEVEL_ROW = (
    "id",
    "branch_id",
    "branch__code",
    "product_id",
    "product__sku",
    "product__name",
    "product__barcode",
    "product__unit",
    "product__category_id",
    "product__category__name",
    "product__is_active",
    "product__low_stock_threshold",
    "product__cost_price",
    "on_hand",
    "low_stock_threshold",
    "average_cost",
    "version",
    "updated_at",
)

MOVEMENT_ROW = (
    "id",
    "kind",
    "branch_id",
    "branch__code",
    "product_id",
    "product__sku",
    "product__name",
    "stock_level_id",
    "delta",
    "on_hand_after",
    "unit_cost",
    "average_cost_after",
    "version",
    "actor_id",
    "actor__full_name",
    "actor__email",
    "reason",
    "note",
    "created_at",
)


def level_rows(levels: QuerySet[StockLevel]) -> QuerySet[StockLevel, dict]:
    """``levels`` (a list's filtered, ordered levels) as the rows the stock lists show, one
    dict of ``LEVEL_ROW`` each; the API and the stock list page both read these."""
    return levels.values(*LEVEL_ROW)


def movement_rows(ledger: QuerySet[StockMovement]) -> QuerySet[StockMovement, dict]:
    """``ledger`` as plain rows of ``MOVEMENT_ROW``, for the ledger lists."""
    return ledger.values(*MOVEMENT_ROW)


_CENT = Decimal("0.01")


def level_value(on_hand: Decimal, average_cost: Decimal | None, cost_price: Decimal) -> Decimal:
    """What a level holds is worth: on hand at its moving average cost, else the product's
    cost price (as stock.reports.stock_value values it), to the cent."""
    unit = cost_price if average_cost is None else average_cost
    return (on_hand * unit).quantize(_CENT)


def row_threshold(row: dict) -> Decimal:
    """The threshold in force for a level row: the branch's own, else the product's."""
    own = row["low_stock_threshold"]
    return row["product__low_stock_threshold"] if own is None else own


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


@dataclass(frozen=True)
class ReorderTerms:
    """When a level is replenished and how far: below ``minimum``, up to ``maximum``, bought
    from ``supplier_id`` (None: nobody sells it). ``from_rule``: set by a ReorderRule rather
    than the defaults."""

    minimum: Decimal
    maximum: Decimal
    supplier_id: uuid.UUID | None
    from_rule: bool


def reorder_terms(level_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ReorderTerms]:
    """The reorder terms of each level in ``level_ids``, in one query; unknown ids are left out.

    A level with a ReorderRule uses it (its supplier, else the product's preferred one).
    Without a rule: minimum = the level's effective low-stock threshold (its own, else the
    product's), maximum = twice that, supplier = the product's preferred SupplierProduct's
    supplier (whether or not that supplier is active: the caller decides what to do with an
    inactive one). No permission check: callers scope the ids.
    """
    ids = list(level_ids)
    if not ids:
        return {}
    preferred = SupplierProduct.objects.filter(
        product_id=OuterRef("product_id"), is_preferred=True
    ).values("supplier_id")[:1]
    rows = (
        StockLevel.objects.filter(pk__in=ids)
        .annotate(
            threshold=Coalesce("low_stock_threshold", "product__low_stock_threshold"),
            # Typed, or SQLite hands back the id as text that matches no supplier's UUID.
            preferred_supplier_id=Subquery(preferred, output_field=UUIDField()),
        )
        .values_list(
            "pk",
            "threshold",
            "preferred_supplier_id",
            "reorder_rule__id",
            "reorder_rule__minimum",
            "reorder_rule__maximum",
            "reorder_rule__supplier_id",
        )
    )
    terms = {}
    for pk, threshold, preferred_id, rule_id, minimum, maximum, supplier_id in rows:
        if rule_id is not None:
            terms[pk] = ReorderTerms(minimum, maximum, supplier_id or preferred_id, True)
        else:
            terms[pk] = ReorderTerms(threshold, threshold * 2, preferred_id, False)
    return terms
