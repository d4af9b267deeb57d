"""Replenishment: what each branch needs, and where it should come from.

For every stock level in scope whose position (on hand plus what is already coming: open
purchase order lines, drafts included, and transfers into the branch not yet received) is
below its minimum, the need is what brings the position up to its maximum. It is covered
first by transfers from other active branches holding more than their own maximum and what
they have already promised, largest spare first; the rest is bought from the level's
supplier (its reorder rule's, else the product's preferred one) in whole packs and at least
the supplier's minimum order quantity, grouped per (branch, supplier) into draft orders.

``plan`` reads everything it needs in a fixed number of queries and hands plain rows to
``compute``, a pure function; ``apply_plan`` turns chosen suggestions into REQUESTED
transfers and DRAFT orders in one transaction, from a plan recomputed inside it.
"""

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from django.db import transaction
from django.db.models import F, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import User
from accounts.permissions import Action, AnyUser
from branches.errors import UnknownBranch
from branches.models import Branch
from catalog.models import SupplierProduct, Unit
from inventory_project.kernel.access import deny
from inventory_project.kernel.errors import Conflict, InvalidInput
from stock.models import StockLevel
from stock.selectors import ReorderTerms, reorder_terms
from transfers import purchasing
from transfers import services as transfer_services
from transfers.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Transfer,
    TransferLine,
    TransferStatus,
)

ZERO = Decimal(0)
MONEY = Decimal("0.0001")

# Orders that will still bring goods (drafts too: they are about to be sent).
ORDERS_COMING = (
    PurchaseOrderStatus.DRAFT,
    PurchaseOrderStatus.SENT,
    PurchaseOrderStatus.PARTIALLY_RECEIVED,
)
# Transfers into a branch that will still bring goods.
TRANSFERS_COMING = (
    TransferStatus.REQUESTED,
    TransferStatus.APPROVED,
    TransferStatus.IN_TRANSIT,
    TransferStatus.PARTIALLY_RECEIVED,
)
# Transfers out of a branch whose goods are promised but still on its shelves.
TRANSFERS_PROMISED = (TransferStatus.REQUESTED, TransferStatus.APPROVED)

NOTE = "Suggested by replenishment"
# A suggestion's key: "order:<level id>" or "transfer:<level id>:<source branch id>".
KEY_MAX_LENGTH = 90
# More keys than this in one choice are no person's choice.
MAX_CHOICES = 5000


# Plain rows: what ``compute`` works on --------------------------------------------------------


@dataclass(frozen=True)
class LevelRow:
    level_id: uuid.UUID
    branch_id: uuid.UUID
    branch_code: str
    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    on_hand: Decimal
    terms: ReorderTerms


@dataclass(frozen=True)
class Offer:
    """What one supplier asks for one product."""

    supplier_id: uuid.UUID
    supplier_code: str
    supplier_name: str
    currency: str
    lead_time_days: int
    active: bool
    supplier_sku: str
    pack_size: Decimal
    minimum_order_quantity: Decimal
    price: Decimal


@dataclass(frozen=True)
class Inputs:
    """Everything the plan is computed from, read at one moment."""

    # Levels of the branches being replenished.
    levels: list[LevelRow]
    # (branch_id, product_id) -> quantity coming to the branch.
    incoming: dict[tuple[uuid.UUID, uuid.UUID], Decimal]
    # Levels of every active branch holding some of a needed product.
    sources: list[LevelRow]
    # (branch_id, product_id) -> quantity promised out of the branch.
    promised: dict[tuple[uuid.UUID, uuid.UUID], Decimal]
    # (supplier_id, product_id) -> the supplier's offer.
    offers: dict[tuple[uuid.UUID, uuid.UUID], Offer]
    # Branches whose stock figures the reader may see.
    visible: frozenset[uuid.UUID] = frozenset()


# The plan ------------------------------------------------------------------------------------


@dataclass
class TransferSuggestion:
    key: str
    source_id: uuid.UUID
    source_code: str
    quantity: Decimal
    # The source's spare before this suggestion took from it; None when the reader may not
    # see the source's stock.
    source_spare: Decimal | None = None


@dataclass
class Row:
    """One level under its minimum and how the plan brings it up."""

    level_id: uuid.UUID
    branch_id: uuid.UUID
    branch_code: str
    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    on_hand: Decimal
    incoming: Decimal
    minimum: Decimal
    maximum: Decimal
    need: Decimal
    from_rule: bool
    transfers: list[TransferSuggestion] = field(default_factory=list)
    # What is left for a supplier once transfers took their part.
    to_buy: Decimal = ZERO
    # The order line, when a supplier sells it: quantity in whole packs, at least the MOQ.
    order_key: str = ""
    supplier_id: uuid.UUID | None = None
    order_quantity: Decimal = ZERO
    unit_price: Decimal | None = None
    line_total: Decimal | None = None
    currency: str = ""
    # Why nothing can be bought when ``to_buy`` is left and no order line is suggested.
    no_supplier: str = ""

    @property
    def position(self) -> Decimal:
        return self.on_hand + self.incoming

    @property
    def transferred(self) -> Decimal:
        return sum((s.quantity for s in self.transfers), ZERO)


@dataclass
class OrderSuggestion:
    """A draft order the plan suggests: one branch, one supplier, the rows it buys."""

    key: str
    branch_id: uuid.UUID
    branch_code: str
    supplier_id: uuid.UUID
    supplier_code: str
    supplier_name: str
    currency: str
    lead_time_days: int
    rows: list[Row] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((row.line_total or ZERO for row in self.rows), ZERO)


@dataclass
class BranchPlan:
    branch_id: uuid.UUID
    branch_code: str
    branch_name: str
    rows: list[Row] = field(default_factory=list)
    orders: list[OrderSuggestion] = field(default_factory=list)

    @property
    def no_supplier(self) -> list[Row]:
        return [row for row in self.rows if row.no_supplier]

    @property
    def transfer_count(self) -> int:
        return sum(len(row.transfers) for row in self.rows)


@dataclass
class Plan:
    branches: list[BranchPlan]

    @property
    def rows(self) -> list[Row]:
        return [row for branch in self.branches for row in branch.rows]

    @property
    def keys(self) -> list[str]:
        """Every suggestion's key: what ``apply_plan`` may be given to choose."""
        keys = []
        for row in self.rows:
            keys += [suggestion.key for suggestion in row.transfers]
            if row.order_key:
                keys.append(row.order_key)
        return keys

    @property
    def empty(self) -> bool:
        return not self.keys


@dataclass(frozen=True)
class Applied:
    transfers: list[Transfer]
    orders: list[PurchaseOrder]


def transfer_key(level_id: uuid.UUID, source_id: uuid.UUID) -> str:
    return f"transfer:{level_id}:{source_id}"


def order_key(level_id: uuid.UUID) -> str:
    return f"order:{level_id}"


# Computing -----------------------------------------------------------------------------------


def compute(inputs: Inputs, branches: Iterable[Branch]) -> Plan:
    """The plan for ``branches`` from ``inputs``: a pure function of its arguments."""
    plans = {
        branch.pk: BranchPlan(branch_id=branch.pk, branch_code=branch.code, branch_name=branch.name)
        for branch in branches
    }
    rows = []
    supplier_of = {}
    for level in sorted(inputs.levels, key=lambda level: (level.branch_code, level.sku)):
        if level.branch_id not in plans:
            continue
        incoming = inputs.incoming.get((level.branch_id, level.product_id), ZERO)
        position = level.on_hand + incoming
        if position >= level.terms.minimum:
            continue
        supplier_of[level.level_id] = level.terms.supplier_id
        rows.append(
            Row(
                level_id=level.level_id,
                branch_id=level.branch_id,
                branch_code=level.branch_code,
                product_id=level.product_id,
                sku=level.sku,
                name=level.name,
                unit=level.unit,
                on_hand=level.on_hand,
                incoming=incoming,
                minimum=level.terms.minimum,
                maximum=level.terms.maximum,
                need=level.terms.maximum - position,
                from_rule=level.terms.from_rule,
            )
        )
    spare = _spare(inputs)
    for row in rows:
        left = row.need
        # Largest spare first; the code breaks ties so the plan is the same every time.
        held = spare.get(row.product_id, {})
        sources = sorted(
            (
                (amount, code, branch_id)
                for branch_id, (amount, code) in held.items()
                if branch_id != row.branch_id and amount > 0
            ),
            key=lambda source: (-source[0], source[1]),
        )
        for amount, code, branch_id in sources:
            if left <= 0:
                break
            take = min(left, amount)
            if Unit(row.unit).is_countable:
                take = take.to_integral_value(ROUND_FLOOR)
            if take <= 0:
                continue
            row.transfers.append(
                TransferSuggestion(
                    key=transfer_key(row.level_id, branch_id),
                    source_id=branch_id,
                    source_code=code,
                    quantity=take,
                    source_spare=amount if branch_id in inputs.visible else None,
                )
            )
            held[branch_id] = (amount - take, code)
            left -= take
        row.to_buy = left
        if left > 0:
            _buy(row, supplier_of[row.level_id], inputs)
        plans[row.branch_id].rows.append(row)
    for plan in plans.values():
        plan.orders = _orders(plan.rows, inputs)
    return Plan(branches=sorted(plans.values(), key=lambda plan: plan.branch_code))


def _spare(inputs: Inputs) -> dict[uuid.UUID, dict[uuid.UUID, tuple[Decimal, str]]]:
    """What each source can give of each product (product -> branch -> spare, code): on hand
    above its own maximum and what it has promised, whole units of countable products."""
    spare: dict[uuid.UUID, dict[uuid.UUID, tuple[Decimal, str]]] = defaultdict(dict)
    for level in inputs.sources:
        key = (level.branch_id, level.product_id)
        amount = level.on_hand - level.terms.maximum - inputs.promised.get(key, ZERO)
        if Unit(level.unit).is_countable:
            amount = amount.to_integral_value(ROUND_FLOOR)
        if amount > 0:
            spare[level.product_id][level.branch_id] = (amount, level.branch_code)
    return spare


def _buy(row: Row, supplier_id: uuid.UUID | None, inputs: Inputs) -> None:
    offer = inputs.offers.get((supplier_id, row.product_id)) if supplier_id else None
    if offer is None:
        row.no_supplier = (
            _("The supplier of its reorder rule no longer sells it.")
            if supplier_id
            else _("No supplier: give it a preferred supplier or a reorder rule naming one.")
        )
        return
    if not offer.active:
        row.no_supplier = _("Its supplier %(code)s is inactive.") % {"code": offer.supplier_code}
        return
    row.supplier_id = offer.supplier_id
    row.order_key = order_key(row.level_id)
    row.order_quantity = packs(row.to_buy, offer.pack_size, offer.minimum_order_quantity)
    row.unit_price = offer.price
    row.currency = offer.currency
    row.line_total = (row.order_quantity * offer.price).quantize(MONEY, ROUND_HALF_EVEN)


def packs(quantity: Decimal, pack_size: Decimal, minimum: Decimal) -> Decimal:
    """The least whole number of packs holding ``quantity`` and at least ``minimum``."""
    wanted = max(quantity, minimum)
    return pack_size * (wanted / pack_size).to_integral_value(ROUND_CEILING)


def _orders(rows: list[Row], inputs: Inputs) -> list[OrderSuggestion]:
    orders: dict[uuid.UUID, OrderSuggestion] = {}
    for row in rows:
        if not row.order_key:
            continue
        offer = inputs.offers[(row.supplier_id, row.product_id)]
        if row.supplier_id not in orders:
            orders[row.supplier_id] = OrderSuggestion(
                key=f"{row.branch_id}:{row.supplier_id}",
                branch_id=row.branch_id,
                branch_code=row.branch_code,
                supplier_id=offer.supplier_id,
                supplier_code=offer.supplier_code,
                supplier_name=offer.supplier_name,
                currency=offer.currency,
                lead_time_days=offer.lead_time_days,
            )
        orders[row.supplier_id].rows.append(row)
    return sorted(orders.values(), key=lambda order: order.supplier_code)


# Reading -------------------------------------------------------------------------------------


def scope(user: AnyUser, branch: Branch | uuid.UUID | str | None = None) -> list[Branch]:
    """The active branches ``user`` replenishes (every one for ADMINs), or the chosen one.

    NotPermitted for someone who orders stock nowhere; a chosen branch they may not view is
    UnknownBranch (404), one they may view but not order for NotPermitted.
    """
    if permissions.is_admin(user):
        branches = Branch.objects.filter(is_active=True)
    else:
        branches = permissions.branches_where(user, Action.ORDER_STOCK).filter(is_active=True)
    if branch is None:
        found = list(branches.order_by("code"))
        if not found and not permissions.is_admin(user):
            raise deny(user, _("Only managers replenish stock, for their own branches."))
        return found
    branch_id = branch.pk if isinstance(branch, Branch) else _as_uuid(branch)
    if branch_id is None:
        raise UnknownBranch(_("No branch %(id)s.") % {"id": str(branch)[:50]})
    permissions.check(user, Action.ORDER_STOCK, branch_id)
    found = list(branches.filter(pk=branch_id))
    if not found:
        if permissions.is_admin(user) and not Branch.objects.filter(pk=branch_id).exists():
            raise UnknownBranch(_("No branch %(id)s.") % {"id": branch_id})
        raise InvalidInput(_("This branch is inactive; it is not replenished."), field="branch")
    return found


def read_inputs(user: AnyUser, branches: list[Branch]) -> Inputs:
    """Everything ``compute`` needs for ``branches``, in a fixed number of queries."""
    branch_ids = [branch.pk for branch in branches]
    if not branch_ids:
        return Inputs(levels=[], incoming={}, sources=[], promised={}, offers={})
    # What is coming only raises a position: a level holding its minimum needs nothing, and
    # is not read (the minimum as reorder_terms defines it: the rule's, else the threshold).
    levels = _levels(
        StockLevel.objects.filter(branch_id__in=branch_ids)
        .alias(
            floor=Coalesce(
                "reorder_rule__minimum", "low_stock_threshold", "product__low_stock_threshold"
            )
        )
        .filter(on_hand__lt=F("floor"))
    )
    incoming = _incoming(branch_ids)
    below = {
        level.product_id
        for level in levels
        if level.on_hand + incoming.get((level.branch_id, level.product_id), ZERO)
        < level.terms.minimum
    }
    sources = (
        _levels(
            StockLevel.objects.filter(product_id__in=below, branch__is_active=True, on_hand__gt=0)
        )
        if below
        else []
    )
    promised = _promised([level.branch_id for level in sources], below) if sources else {}
    wanted = {
        (level.terms.supplier_id, level.product_id)
        for level in levels
        if level.product_id in below and level.terms.supplier_id
    }
    visible = (
        frozenset(permissions.visible_branches(user).values_list("pk", flat=True))
        if sources and not permissions.is_admin(user)
        else frozenset(level.branch_id for level in sources)
    )
    return Inputs(
        levels=levels,
        incoming=incoming,
        sources=sources,
        promised=promised,
        offers=_offers(wanted),
        visible=visible,
    )


def _levels(levels: QuerySet[StockLevel]) -> list[LevelRow]:
    rows = list(
        levels.filter(product__is_active=True)
        .order_by()
        .values_list(
            "pk",
            "branch_id",
            "branch__code",
            "product_id",
            "product__sku",
            "product__name",
            "product__unit",
            "on_hand",
        )
    )
    terms = reorder_terms([row[0] for row in rows])
    return [LevelRow(*row, terms=terms[row[0]]) for row in rows]


def _incoming(branch_ids: list[uuid.UUID]) -> dict[tuple[uuid.UUID, uuid.UUID], Decimal]:
    coming: dict[tuple[uuid.UUID, uuid.UUID], Decimal] = defaultdict(lambda: ZERO)
    ordered = PurchaseOrderLine.objects.filter(
        order__branch_id__in=branch_ids, order__status__in=ORDERS_COMING
    ).values_list("order__branch_id", "product_id", "quantity_ordered", "quantity_received")
    for branch_id, product_id, quantity, received in ordered:
        coming[(branch_id, product_id)] += max(quantity - received, ZERO)
    moving = TransferLine.objects.filter(
        transfer__to_branch_id__in=branch_ids, transfer__status__in=TRANSFERS_COMING
    ).values_list("transfer__to_branch_id", "product_id", "requested", "shipped", "received")
    for branch_id, product_id, requested, shipped, received in moving:
        # Once shipped, what comes is what left the source.
        sent = shipped if shipped is not None else requested
        coming[(branch_id, product_id)] += max(sent - received, ZERO)
    return dict(coming)


def _promised(
    branch_ids: list[uuid.UUID], product_ids: Collection[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID], Decimal]:
    rows = (
        TransferLine.objects.filter(
            transfer__from_branch_id__in=set(branch_ids),
            transfer__status__in=TRANSFERS_PROMISED,
            product_id__in=product_ids,
        )
        .values_list("transfer__from_branch_id", "product_id")
        .annotate(total=Sum("requested"))
        .order_by()
    )
    return {(branch_id, product_id): total for branch_id, product_id, total in rows}


def _offers(
    wanted: set[tuple[uuid.UUID, uuid.UUID]],
) -> dict[tuple[uuid.UUID, uuid.UUID], Offer]:
    if not wanted:
        return {}
    rows = SupplierProduct.objects.filter(
        product_id__in={product_id for _, product_id in wanted},
        supplier_id__in={supplier_id for supplier_id, _ in wanted},
    ).values_list(
        "supplier_id",
        "product_id",
        "supplier__code",
        "supplier__name",
        "supplier__currency",
        "supplier__lead_time_days",
        "supplier__is_active",
        "supplier_sku",
        "pack_size",
        "minimum_order_quantity",
        "price",
    )
    return {(row[0], row[1]): Offer(row[0], *row[2:]) for row in rows if (row[0], row[1]) in wanted}


def plan(*, user: AnyUser, branch: Branch | uuid.UUID | str | None = None) -> Plan:
    """What the branches ``user`` replenishes need, and where it should come from."""
    branches = scope(user, branch)
    return compute(read_inputs(user, branches), branches)


# Applying ------------------------------------------------------------------------------------


def apply_plan(
    *,
    actor: User,
    branch_id: uuid.UUID | str | None = None,
    choices: Collection[str] | None = None,
) -> Applied:
    """Turn the chosen suggestions (every one when ``choices`` is None) into REQUESTED
    transfers, one per (source, destination), and DRAFT orders, one per (branch, supplier),
    all or nothing.

    The plan is computed again inside the transaction, after locking the branches being
    replenished (so two people applying at once do not both order the same need: the second
    sees the first's drafts as incoming). A chosen suggestion the fresh plan no longer makes
    is a Conflict; the quantities are the fresh plan's.
    """
    chosen = _parse_choices(choices)
    with transaction.atomic():
        branches = scope(actor, branch_id)
        # Lock in pk order so applies never deadlock each other; NO KEY UPDATE leaves the
        # branches free for the movements and transfers that reference them meanwhile.
        locked = list(
            Branch.objects.select_for_update(no_key=True)
            .filter(pk__in=[branch.pk for branch in branches])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        branches = [branch for branch in branches if branch.pk in set(locked)]
        fresh = compute(read_inputs(actor, branches), branches)
        keys = set(fresh.keys)
        if chosen is None:
            chosen = keys
        if not keys:
            raise Conflict(_("Nothing needs replenishing now."))
        stale = chosen - keys
        if stale:
            raise Conflict(
                _(
                    "Stock has changed since these suggestions were made; look at them again "
                    "before creating drafts."
                )
            )
        transfers: dict[tuple[uuid.UUID, uuid.UUID], list] = defaultdict(list)
        orders: dict[tuple[uuid.UUID, uuid.UUID], list] = defaultdict(list)
        for row in fresh.rows:
            for suggestion in row.transfers:
                if suggestion.key in chosen:
                    transfers[(suggestion.source_id, row.branch_id)].append(
                        transfer_services.TransferItem(
                            product_id=row.product_id, quantity=suggestion.quantity
                        )
                    )
            if row.order_key in chosen:
                orders[(row.branch_id, row.supplier_id)].append(
                    purchasing.OrderItem(product_id=row.product_id, quantity=row.order_quantity)
                )
        made_transfers = [
            transfer_services.request_transfer(
                actor=actor,
                from_branch_id=source_id,
                to_branch_id=destination_id,
                items=chunk,
                note=NOTE,
            )
            for (source_id, destination_id), items in sorted(transfers.items())
            for chunk in _chunks(items, transfer_services.MAX_LINES)
        ]
        made_orders = [
            purchasing.draft_purchase_order(
                actor=actor,
                branch_id=branch,
                supplier_id=supplier,
                items=items,
                note=NOTE,
            )
            for (branch, supplier), items in sorted(orders.items())
        ]
        return Applied(transfers=made_transfers, orders=made_orders)


def _parse_choices(choices: Collection[str] | None) -> set[str] | None:
    if choices is None:
        return None
    if isinstance(choices, str) or not isinstance(choices, Collection):
        raise InvalidInput(_("Choose suggestions by their keys."), field="choices")
    if not choices:
        raise InvalidInput(_("Choose at least one suggestion."), field="choices")
    if len(choices) > MAX_CHOICES:
        raise InvalidInput(
            _("At most %(count)s suggestions at once.") % {"count": MAX_CHOICES}, field="choices"
        )
    parsed = set()
    for choice in choices:
        if not isinstance(choice, str) or not _well_formed(choice):
            raise InvalidInput(
                _("%(choice)s is not a suggestion's key.") % {"choice": str(choice)[:80]},
                field="choices",
            )
        parsed.add(choice)
    return parsed


def _well_formed(key: str) -> bool:
    kind, _sep, rest = key.partition(":")
    parts = rest.split(":")
    if kind == "order":
        return len(parts) == 1 and all(_as_uuid(part) for part in parts)
    if kind == "transfer":
        return len(parts) == 2 and all(_as_uuid(part) for part in parts)
    return False


def _chunks(items: list, size: int) -> list[list]:
    return [items[start : start + size] for start in range(0, len(items), size)] or [[]]


def _as_uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
