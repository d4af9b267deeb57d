"""Reads of purchase orders that more than one interface needs: the orders a user may see,
one order in full, what may be done with it next, and the order as a CSV for the supplier."""

import csv
import io
import uuid

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, QuerySet

from accounts import permissions
from accounts.permissions import AnyUser, Rights
from stock.quantities import format_quantity
from transfers import purchase_workflow
from transfers.errors import UnknownPurchaseOrder
from transfers.models import PurchaseOrder, PurchaseOrderEvent, PurchaseOrderLine, PurchaseReceipt

# A spreadsheet runs a cell starting with one of these as a formula; product names and
# notes are typed by people, and the supplier opens this file.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def visible_orders(user: AnyUser) -> QuerySet[PurchaseOrder]:
    """The purchase orders of the branches ``user`` may see."""
    return permissions.scope(PurchaseOrder.objects.all(), user)


def order_list(user: AnyUser) -> QuerySet[PurchaseOrder]:
    """The orders ``user`` may see, newest first, with their branch, supplier and author,
    and how many lines each has."""
    return _listed(visible_orders(user))


def order_detail(user: AnyUser, order_id: uuid.UUID | str) -> PurchaseOrder:
    """One order ``user`` may see, with its lines (and their products and receipts) and its
    history; UnknownPurchaseOrder for one that does not exist or is hidden, alike."""
    try:
        return _detailed(order_list(user)).get(pk=order_id)
    except (PurchaseOrder.DoesNotExist, ValidationError, ValueError):
        raise UnknownPurchaseOrder(f"No purchase order with id {order_id}.") from None


def order_after_step(order: PurchaseOrder) -> PurchaseOrder:
    """``order`` read again as ``order_detail`` reads it, once a step's service returned it:
    that service already decided that its actor may see it."""
    return _detailed(_listed(PurchaseOrder.objects.all())).get(pk=order.pk)


def _listed(orders: QuerySet[PurchaseOrder]) -> QuerySet[PurchaseOrder]:
    return (
        orders.select_related("branch", "supplier", "created_by")
        .annotate(line_count=Count("lines"))
        .order_by("-created_at", "-id")
    )


def _detailed(orders: QuerySet[PurchaseOrder]) -> QuerySet[PurchaseOrder]:
    return orders.prefetch_related(
        Prefetch(
            "lines",
            queryset=PurchaseOrderLine.objects.select_related("product").order_by("product__sku"),
        ),
        Prefetch(
            "lines__receipts",
            queryset=PurchaseReceipt.objects.select_related("actor", "movement"),
        ),
        Prefetch("events", queryset=PurchaseOrderEvent.objects.select_related("actor")),
    )


def step_rights(user: AnyUser, order: PurchaseOrder | None = None) -> Rights:
    """What ``user`` may do at ``order``'s branch (without one, at every branch, for a
    list): one query, from which ``available_steps`` is worked out per row."""
    return permissions.rights(user, None if order is None else (order.branch_id,))


def available_steps(user: AnyUser, order: PurchaseOrder, rights: Rights | None = None) -> list[str]:
    """The steps ``user`` may take on ``order`` now, by their API names (``send``,
    ``receive``, ...), in the workflow's order; ``rights`` from ``step_rights`` spares the
    query."""
    if rights is None:
        rights = step_rights(user, order)
    return purchase_workflow.available_steps(order, rights)


CSV_HEADER = [
    "order",
    "supplier",
    "line",
    "supplier_sku",
    "sku",
    "product",
    "unit",
    "quantity",
    "unit_price",
    "currency",
    "line_total",
]


def order_csv(order: PurchaseOrder) -> str:
    """The order as the supplier reads it: one row per line, with their SKU, our SKU, the
    quantity in the product's unit, the price of one unit and the line's total."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    lines = order.lines.select_related("product").order_by("product__sku")
    for number, line in enumerate(lines, start=1):
        price = line.unit_price
        total = None if price is None else (price * line.quantity_ordered).quantize(price)
        writer.writerow(
            [
                order.reference,
                _safe(order.supplier.code),
                number,
                _safe(line.supplier_sku),
                _safe(line.product.sku),
                _safe(line.product.name),
                line.product.unit,
                format_quantity(line.quantity_ordered),
                "" if price is None else f"{price:f}",
                order.currency,
                "" if total is None else f"{total:f}",
            ]
        )
    return out.getvalue()


def _safe(text: str) -> str:
    """A cell a spreadsheet shows as typed rather than runs."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
