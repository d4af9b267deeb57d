"""Stock is conserved across transfers: nothing appears or vanishes on the way.

Per product, over all branches::

    sum of on hand + in transit == receipts - issues +/- adjustments and counts - shortfalls

where *in transit* is shipped - received over the lines of transfers IN_TRANSIT or
PARTIALLY_RECEIVED, and *shortfalls* is shipped - received over the lines of RECEIVED
transfers the receiver closed with a shortfall reason. Equivalently, what left the sources
(TRANSFER_OUT) equals what arrived (TRANSFER_IN) plus what is in transit plus the shortfalls.

Per transfer line, through its TransferMovement links: ``shipped`` is what its TRANSFER_OUT
movements took from the source, ``received`` what its TRANSFER_IN movements added at the
destination; every linked movement is of the line's product at the right branch; a line has
a shipped quantity exactly when its transfer has shipped.

The checks are a fixed number of aggregate queries whatever the number of products and
lines, read from one snapshot of the database.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce

from catalog.models import QUANTITY_DECIMAL_PLACES, Product
from stock.models import MovementKind, StockLevel, StockMovement
from transfers.models import UNDER_WAY, TransferLine, TransferStatus

# Statuses of a transfer whose lines have not shipped (and never will, once cancelled).
NOT_SHIPPED = (TransferStatus.REQUESTED, TransferStatus.APPROVED, TransferStatus.CANCELLED)
# The kinds that bring stock into or out of the company, as opposed to moving it inside.
BOOKED_KINDS = (
    MovementKind.RECEIPT,
    MovementKind.ISSUE,
    MovementKind.ADJUSTMENT,
    MovementKind.COUNT,
)

ZERO = Decimal(0)


@dataclass(frozen=True)
class ProductImbalance:
    """A product whose stock, counted over every branch and transfer, does not add up."""

    product_id: uuid.UUID
    sku: str
    on_hand: Decimal  # over all branches
    in_transit: Decimal
    shortfall: Decimal
    booked: Decimal  # receipts - issues +/- adjustments and counts
    transferred_out: Decimal  # -(sum of TRANSFER_OUT deltas)
    transferred_in: Decimal  # sum of TRANSFER_IN deltas

    @property
    def problems(self) -> list[str]:
        found = []
        if self.on_hand + self.in_transit != self.booked - self.shortfall:
            found.append("on hand + in transit != booked - shortfall")
        if self.transferred_out != self.transferred_in + self.in_transit + self.shortfall:
            found.append("transferred out != transferred in + in transit + shortfall")
        return found

    def __str__(self) -> str:
        return (
            f"product {self.sku}\ton_hand={self.on_hand}\tin_transit={self.in_transit}\t"
            f"shortfall={self.shortfall}\tbooked={self.booked}\t"
            f"transferred_out={self.transferred_out}\ttransferred_in={self.transferred_in}\t"
            f"{'; '.join(self.problems)}"
        )


@dataclass(frozen=True)
class LineMismatch:
    """A transfer line whose quantities disagree with the ledger entries it wrote."""

    line_id: uuid.UUID
    reference: str
    status: str
    sku: str
    shipped: Decimal | None
    received: Decimal
    moved_out: Decimal  # -(sum of its TRANSFER_OUT movements)
    moved_in: Decimal  # sum of its TRANSFER_IN movements
    misplaced: int  # linked movements of another product, branch or kind

    @property
    def problems(self) -> list[str]:
        found = []
        if (self.shipped is None) != (self.status in NOT_SHIPPED):
            found.append(f"shipped={self.shipped} while the transfer is {self.status}")
        if (self.shipped or ZERO) != self.moved_out:
            found.append("shipped != its TRANSFER_OUT movements")
        if self.received != self.moved_in:
            found.append("received != its TRANSFER_IN movements")
        if self.misplaced:
            found.append(f"{self.misplaced} linked movement(s) of another product, branch or kind")
        return found

    def __str__(self) -> str:
        return (
            f"line {self.reference} {self.sku}\tstatus={self.status}\tshipped={self.shipped}\t"
            f"received={self.received}\tmoved_out={self.moved_out}\tmoved_in={self.moved_in}\t"
            f"{'; '.join(self.problems)}"
        )


Discrepancy = ProductImbalance | LineMismatch


def conservation_discrepancies() -> list[Discrepancy]:
    """Every product whose stock does not add up and every transfer line that disagrees
    with its movements (see the module's docstring); an empty list when all is consistent.

    Products come first, by SKU, then lines, by transfer reference and SKU.
    """
    with _snapshot():
        return _product_imbalances() + _line_mismatches()


def _total(expression, **filters) -> Coalesce:
    """Sum of ``expression`` (0 when there is nothing to sum), wide enough not to overflow."""
    return Coalesce(
        Sum(expression, **filters),
        Value(ZERO),
        output_field=DecimalField(max_digits=30, decimal_places=QUANTITY_DECIMAL_PLACES),
    )


def _product_imbalances() -> list[ProductImbalance]:
    figures: dict[uuid.UUID, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))

    levels = StockLevel.objects.values("product_id").annotate(total=_total("on_hand"))
    for row in levels.order_by():
        figures[row["product_id"]]["on_hand"] = row["total"]

    ledger = StockMovement.objects.values("product_id").annotate(
        booked=_total("delta", filter=Q(kind__in=BOOKED_KINDS)),
        transferred_out=_total("delta", filter=Q(kind=MovementKind.TRANSFER_OUT)),
        transferred_in=_total("delta", filter=Q(kind=MovementKind.TRANSFER_IN)),
    )
    for row in ledger.order_by():
        product = figures[row["product_id"]]
        product["booked"] = row["booked"]
        product["transferred_out"] = -row["transferred_out"]
        product["transferred_in"] = row["transferred_in"]

    outstanding = F("shipped") - F("received")
    lines = TransferLine.objects.values("product_id").annotate(
        in_transit=_total(outstanding, filter=Q(transfer__status__in=UNDER_WAY)),
        shortfall=_total(
            outstanding,
            filter=Q(transfer__status=TransferStatus.RECEIVED) & ~Q(transfer__shortfall_reason=""),
        ),
    )
    for row in lines.order_by():
        product = figures[row["product_id"]]
        product["in_transit"] = row["in_transit"]
        product["shortfall"] = row["shortfall"]

    imbalances = [
        ProductImbalance(
            product_id=product_id,
            sku="",
            on_hand=values["on_hand"],
            in_transit=values["in_transit"],
            shortfall=values["shortfall"],
            booked=values["booked"],
            transferred_out=values["transferred_out"],
            transferred_in=values["transferred_in"],
        )
        for product_id, values in figures.items()
    ]
    imbalances = [imbalance for imbalance in imbalances if imbalance.problems]
    if not imbalances:
        return []
    skus = dict(
        Product.objects.filter(pk__in=[i.product_id for i in imbalances]).values_list("pk", "sku")
    )
    named = [replace(imbalance, sku=skus[imbalance.product_id]) for imbalance in imbalances]
    return sorted(named, key=lambda imbalance: imbalance.sku)


def _line_mismatches() -> list[LineMismatch]:
    movement = "movements__movement__"
    in_place = Q(**{f"{movement}product_id": F("product_id")}) & (
        Q(
            **{
                f"{movement}kind": MovementKind.TRANSFER_OUT,
                f"{movement}branch_id": F("transfer__from_branch_id"),
            }
        )
        | Q(
            **{
                f"{movement}kind": MovementKind.TRANSFER_IN,
                f"{movement}branch_id": F("transfer__to_branch_id"),
            }
        )
    )
    rows = (
        TransferLine.objects.values(
            "id",
            "shipped",
            "received",
            "transfer__reference",
            "transfer__status",
            "product__sku",
        )
        .annotate(
            moved_out=_total(
                f"{movement}delta", filter=Q(**{f"{movement}kind": MovementKind.TRANSFER_OUT})
            ),
            moved_in=_total(
                f"{movement}delta", filter=Q(**{f"{movement}kind": MovementKind.TRANSFER_IN})
            ),
            links=Count("movements"),
            links_in_place=Count("movements", filter=in_place),
        )
        .filter(
            # Consistent lines stay in the database; only the ones that disagree come back.
            ~Q(moved_out=-Coalesce("shipped", Value(ZERO)))
            | ~Q(moved_in=F("received"))
            | Q(links__gt=F("links_in_place"))
            | Q(shipped__isnull=True, transfer__status__in=(*UNDER_WAY, TransferStatus.RECEIVED))
            | Q(shipped__isnull=False, transfer__status__in=NOT_SHIPPED)
        )
        .order_by("transfer__reference", "product__sku")
    )
    return [
        LineMismatch(
            line_id=row["id"],
            reference=row["transfer__reference"],
            status=row["transfer__status"],
            sku=row["product__sku"],
            shipped=row["shipped"],
            received=row["received"],
            moved_out=-row["moved_out"],
            moved_in=row["moved_in"],
            misplaced=row["links"] - row["links_in_place"],
        )
        for row in rows
    ]


@contextmanager
def _snapshot() -> Iterator[None]:
    """Run the queries in one transaction that sees one state of the database, so that a
    transfer shipping between two of them cannot look like stock gone missing.

    On PostgreSQL that needs REPEATABLE READ, which only the first statement of a transaction
    can ask for; inside a caller's transaction the caller's view is used as it is.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield
