"""Purchase orders: one function per step, each one transaction.

    draft_purchase_order   (start)                    -> DRAFT          (manager of the branch)
    update_purchase_order  DRAFT                      -> DRAFT          (lines and note replaced)
    send_purchase_order    DRAFT                      -> SENT           (e-mailed once committed)
    receive_purchase_order SENT/PARTIALLY_RECEIVED    -> PARTIALLY_RECEIVED/RECEIVED
                                                                        (staff too; RECEIPTs)
    close_purchase_order   PARTIALLY_RECEIVED         -> RECEIVED       (under-delivery accepted)
    cancel_purchase_order  DRAFT/SENT                 -> CANCELLED      (nothing received)

Who may take each step and from which states is the table in ``transfers.purchase_workflow``;
``_taking`` asks it once: 404 for an order the actor cannot see, then NotPermitted, then
IllegalOrderStep (409). Every step on an existing order locks the order row first, then (on
receipt) the stock levels in primary-key order through ``stock.services``, so two receipts
against one order queue and the second sees what the first received. Every step writes a
PurchaseOrderEvent and publishes ``purchase_order.updated`` to the order's branch.
"""

import datetime
import uuid
import zoneinfo
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import permissions
from accounts.models import User
from accounts.permissions import AnyUser
from catalog.errors import UnknownProduct, UnknownSupplier
from catalog.models import (
    PRICE_DECIMAL_PLACES,
    PRICE_MAX_DIGITS,
    Product,
    Supplier,
    SupplierProduct,
)
from inventory_project.kernel import realtime
from inventory_project.kernel.errors import DomainError, InvalidInput, at_field
from stock import services as stock
from stock.errors import InactiveBranch, InactiveProduct
from stock.models import MovementKind
from stock.quantities import Quantity, check_unit, format_quantity, parse_quantity
from transfers import purchase_mail, purchase_selectors, purchase_workflow
from transfers.errors import IllegalOrderStep, UnknownPurchaseOrder
from transfers.events import PURCHASE_ORDER_UPDATED, PurchaseOrderUpdated
from transfers.models import (
    OrderMailStatus,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    PurchaseOrderStep,
    PurchaseReceipt,
)

NOTE_MAX_LENGTH = PurchaseOrder._meta.get_field("note").max_length
REASON_MAX_LENGTH = PurchaseReceipt._meta.get_field("reason").max_length
MAX_LINES = 500
_PRICE_QUANTUM = Decimal(1).scaleb(-PRICE_DECIMAL_PLACES)
_PRICE_LIMIT = Decimal(10) ** (PRICE_MAX_DIGITS - PRICE_DECIMAL_PLACES)


@dataclass(frozen=True)
class OrderItem:
    """A product to order and how much; ``unit_price`` None takes the supplier's price."""

    product_id: uuid.UUID | str
    quantity: Quantity
    unit_price: Quantity | None = None


@dataclass(frozen=True)
class ReceiptItem:
    """A product that arrived against an order and how much; ``unit_cost`` None is the
    line's unit price. ``reason`` explains a delivery beyond the tolerance."""

    product_id: uuid.UUID | str
    quantity: Quantity
    unit_cost: Quantity | None = None
    reason: str = ""


# Drafting ---------------------------------------------------------------------------------


def draft_purchase_order(
    *,
    actor: User,
    branch_id: uuid.UUID | str,
    supplier_id: uuid.UUID | str,
    items: Sequence[OrderItem],
    note: str = "",
) -> PurchaseOrder:
    """A manager of the branch drafts an order to one supplier (DRAFT): every product one the
    supplier sells, in whole packs and at least the supplier's minimum order quantity; the
    currency and the supplier's SKUs are copied onto the order."""
    note = _clean_text(note, field="note")
    parsed = _parse_items(items)
    entry = purchase_workflow.STEPS[PurchaseOrderStep.DRAFT]
    with transaction.atomic():
        branch = permissions.require(actor, entry.action, branch_id)
        if not branch.is_active:
            raise InactiveBranch(f"Branch {branch.code} is inactive; it orders nothing.")
        supplier = _supplier(supplier_id)
        order = PurchaseOrder.objects.create(
            branch=branch,
            supplier=supplier,
            status=entry.target,
            currency=supplier.currency,
            note=note,
            created_by=actor,
        )
        _write_lines(order, parsed)
        return _record_step(
            order, actor=actor, step=PurchaseOrderStep.DRAFT, from_status="", note=note
        )


def update_purchase_order(
    *,
    actor: User,
    order_id: uuid.UUID | str,
    items: Sequence[OrderItem],
    note: str | None = None,
) -> PurchaseOrder:
    """Replace a draft's lines (and its note, unless ``note`` is None), checked as when it
    was drafted."""
    note = None if note is None else _clean_text(note, field="note")
    parsed = _parse_items(items)
    with transaction.atomic():
        order, _ = _taking(PurchaseOrderStep.EDIT, actor=actor, order_id=order_id)
        # The supplier may have stopped selling something, or been deactivated, since.
        _supplier(order.supplier_id)
        order.lines.all().delete()
        _write_lines(order, parsed)
        if note is not None:
            order.note = note
        return _record_step(
            order,
            actor=actor,
            step=PurchaseOrderStep.EDIT,
            from_status=order.status,
            note=note or "",
        )


# Steps ------------------------------------------------------------------------------------


def send_purchase_order(*, actor: User, order_id: uuid.UUID | str, note: str = "") -> PurchaseOrder:
    """Send a draft to its supplier (DRAFT -> SENT): it is expected after the supplier's lead
    time, and e-mailed with the order as a CSV once this commits (exactly once, by
    ``transfers.tasks.send_purchase_order``). A supplier without an e-mail address cannot be
    sent an order: the order stays a draft."""
    note = _clean_text(note, field="note")
    with transaction.atomic():
        order, entry = _taking(PurchaseOrderStep.SEND, actor=actor, order_id=order_id)
        supplier = order.supplier
        if not supplier.email:
            raise InvalidInput(
                f"Supplier {supplier.code} has no e-mail address; the order cannot be sent. "
                "Add one to the supplier first.",
                field="supplier",
            )
        if not supplier.is_active:
            raise InvalidInput(
                f"Supplier {supplier.code} is inactive; it takes no orders.", field="supplier"
            )
        now = timezone.now()
        before = order.status
        order.status = entry.target
        order.sent_at = now
        # The day it was sent where the branch is: that is when the supplier got it.
        order.expected_on = _local_date(now, order.branch.timezone) + datetime.timedelta(
            days=supplier.lead_time_days
        )
        order.mail_status = OrderMailStatus.PENDING
        order.mail_claimed_at = None
        order.mail_problem = ""
        order = _record_step(
            order, actor=actor, step=PurchaseOrderStep.SEND, from_status=before, note=note
        )
        # robust: the order is sent whatever the queue does; the sweep makes up for it.
        transaction.on_commit(partial(_queue_mail, str(order.pk)), robust=True)
        return order


def receive_purchase_order(
    *,
    actor: User,
    order_id: uuid.UUID | str,
    items: Sequence[ReceiptItem],
    note: str = "",
) -> PurchaseOrder:
    """Goods arrive against an order (SENT or PARTIALLY_RECEIVED): each item becomes a
    RECEIPT movement at the order's branch carrying its unit cost, and a PurchaseReceipt on
    its line. More than ordered is accepted up to the tolerance
    (settings.PURCHASE_RECEIPT_TOLERANCE); beyond it the item needs a reason. The order is
    RECEIVED once every line received at least what was ordered, else PARTIALLY_RECEIVED."""
    note = _clean_text(note, field="note")
    parsed = _parse_receipt_items(items)
    with transaction.atomic():
        order, _ = _taking(PurchaseOrderStep.RECEIVE, actor=actor, order_id=order_id)
        lines = {
            line.product_id: line
            for line in order.lines.select_related("product").order_by("product_id")
        }
        tolerance = Decimal(str(settings.PURCHASE_RECEIPT_TOLERANCE))
        arriving: list[tuple[PurchaseOrderLine, Decimal, Decimal | None, str]] = []
        given_at: dict[uuid.UUID, int] = {}
        for index, (product_id, amount, unit_cost, reason) in enumerate(parsed):
            line = lines.get(product_id)
            with at_field(f"items.{index}.product"):
                if line is None:
                    raise InvalidInput(f"Product {product_id} is not on order {order.reference}.")
            with at_field(f"items.{index}.quantity"):
                check_unit(amount, line.product, name="Quantity")
            allowed = line.quantity_ordered * (1 + tolerance)
            if line.quantity_received + amount > allowed and not reason:
                raise InvalidInput(
                    f"{format_quantity(line.quantity_ordered)} {line.product.unit} of "
                    f"{line.product.sku} were ordered and "
                    f"{format_quantity(line.quantity_received)} already received; receiving "
                    f"{format_quantity(amount)} more goes beyond the tolerance of "
                    f"{format_quantity(tolerance * 100)} %. Say why.",
                    field=f"items.{index}.reason",
                )
            cost = unit_cost if unit_cost is not None else line.unit_price
            arriving.append((line, amount, cost, reason))
            given_at[line.product_id] = index
        # In primary-key order of the products, as the stock rows are locked.
        arriving.sort(key=lambda row: row[0].product_id)
        supplier_code = order.supplier.code
        with _items_named(order=[given_at[line.product_id] for line, _, _, _ in arriving]):
            movements = stock.record_stock_batch(
                actor=actor,
                branch_id=order.branch_id,
                kind=MovementKind.RECEIPT,
                lines=[
                    stock.MovementLine(
                        product_id=line.product_id,
                        quantity=amount,
                        unit_cost=cost,
                        note=f"Order {order.reference} from {supplier_code}",
                    )
                    for line, amount, cost, _ in arriving
                ],
            )
        PurchaseReceipt.objects.bulk_create(
            [
                PurchaseReceipt(
                    line=line,
                    movement=movement,
                    quantity=amount,
                    unit_cost=cost,
                    reason=reason,
                    actor=actor,
                )
                for (line, amount, cost, reason), movement in zip(arriving, movements, strict=True)
            ]
        )
        for line, amount, _, _ in arriving:
            line.quantity_received += amount
        PurchaseOrderLine.objects.bulk_update(
            [line for line, _, _, _ in arriving], ["quantity_received"]
        )
        before = order.status
        complete = all(line.quantity_received >= line.quantity_ordered for line in lines.values())
        order.status = (
            PurchaseOrderStatus.RECEIVED if complete else PurchaseOrderStatus.PARTIALLY_RECEIVED
        )
        if complete:
            order.received_at = timezone.now()
        return _record_step(
            order, actor=actor, step=PurchaseOrderStep.RECEIVE, from_status=before, note=note
        )


def close_purchase_order(*, actor: User, order_id: uuid.UUID | str, reason: str) -> PurchaseOrder:
    """Accept that the rest of a partially received order will not come (-> RECEIVED): what
    was not delivered stays on the lines as ordered - received, with the reason kept."""
    reason = _clean_text(reason, field="reason")
    if not reason:
        raise InvalidInput("Say why the rest of the order will not come.", field="reason")
    with transaction.atomic():
        order, entry = _taking(PurchaseOrderStep.CLOSE, actor=actor, order_id=order_id)
        before = order.status
        order.status = entry.target
        order.short_reason = reason
        order.received_at = timezone.now()
        return _record_step(
            order, actor=actor, step=PurchaseOrderStep.CLOSE, from_status=before, note=reason
        )


def cancel_purchase_order(
    *, actor: User, order_id: uuid.UUID | str, reason: str = ""
) -> PurchaseOrder:
    """Call off an order that received nothing (DRAFT or SENT -> CANCELLED). A sent order's
    e-mail that is still owed is not sent any more."""
    reason = _clean_text(reason, field="reason")
    with transaction.atomic():
        order, entry = _taking(PurchaseOrderStep.CANCEL, actor=actor, order_id=order_id)
        before = order.status
        order.status = entry.target
        order.cancelled_at = timezone.now()
        # An e-mail no worker has claimed yet is not sent any more; one being sent is
        # finished by the worker that claimed it.
        if order.mail_status == OrderMailStatus.PENDING:
            order.mail_status = OrderMailStatus.NONE
        return _record_step(
            order, actor=actor, step=PurchaseOrderStep.CANCEL, from_status=before, note=reason
        )


# The supplier's e-mail ---------------------------------------------------------------------

# What the e-mail task answers besides a mail status: another worker holds the send.
CLAIMED = "CLAIMED"
MISSING = "MISSING"
MAIL_OWED = (OrderMailStatus.PENDING, OrderMailStatus.SENDING)
PROBLEM_MAX_LENGTH = PurchaseOrder._meta.get_field("mail_problem").max_length


def email_purchase_order(*, order_id: uuid.UUID | str) -> str:
    """E-mail a sent order to its supplier, once; return the order's mail status afterwards,
    CLAIMED when another worker is sending it, MISSING when there is no such order.

    No row stays locked while the mail server is talked to, so a receipt against the order
    never waits for it: the send is claimed in one short statement (a conditional UPDATE
    that only one worker wins: PENDING, or SENDING whose claim is older than
    PURCHASE_ORDER_MAIL_LEASE_SECONDS), the message sent outside any transaction, and the
    outcome recorded in a second statement. A worker that dies mid-send leaves its claim to
    run out, after which a retry or the sweep sends it. Raises the mail server's error (an
    OSError) with the claim given back (PENDING), for the task to retry.
    """
    try:
        order_id = uuid.UUID(str(order_id))
    except ValueError:
        return MISSING
    claimed_at = _claim_mail(order_id)
    if claimed_at is None:
        status = (
            PurchaseOrder.objects.filter(pk=order_id).values_list("mail_status", flat=True).first()
        )
        if status is None:
            return MISSING
        return CLAIMED if status in MAIL_OWED else status
    order = PurchaseOrder.objects.select_related("branch", "supplier").get(pk=order_id)
    if not order.supplier.email:
        # Removed from the supplier since the order was sent: nobody to write to.
        note_mail_failed(
            order_id=order.pk,
            problem=f"Supplier {order.supplier.code} has no e-mail address any more.",
        )
        return OrderMailStatus.FAILED
    message = purchase_mail.purchase_order_message(order)
    try:
        message.send()
    except BaseException:
        # The next attempt need not wait for the claim to run out.
        PurchaseOrder.objects.filter(
            pk=order.pk, mail_status=OrderMailStatus.SENDING, mail_claimed_at=claimed_at
        ).update(mail_status=OrderMailStatus.PENDING, mail_claimed_at=None)
        raise
    # Recorded even if the claim ran out meanwhile: it went.
    PurchaseOrder.objects.filter(pk=order.pk).update(
        mail_status=OrderMailStatus.SENT,
        mail_sent_at=timezone.now(),
        mail_claimed_at=None,
        mail_problem="",
    )
    return OrderMailStatus.SENT


def note_mail_problem(*, order_id: uuid.UUID | str, problem: str) -> None:
    """Record why the order's e-mail did not go out (yet); it stays owed."""
    PurchaseOrder.objects.filter(pk=order_id, mail_status__in=MAIL_OWED).update(
        mail_problem=problem[:PROBLEM_MAX_LENGTH]
    )


def note_mail_failed(*, order_id: uuid.UUID | str, problem: str) -> None:
    """Give up on the order's e-mail (FAILED), saying why: someone sends it by hand."""
    PurchaseOrder.objects.filter(pk=order_id, mail_status__in=MAIL_OWED).update(
        mail_status=OrderMailStatus.FAILED,
        mail_claimed_at=None,
        mail_problem=problem[:PROBLEM_MAX_LENGTH],
    )


def orders_owing_mail(*, now: datetime.datetime | None = None) -> list[uuid.UUID]:
    """The orders whose e-mail is owed and nobody is sending: PENDING (its task never
    reached the broker, or was lost), or SENDING by a worker whose claim ran out."""
    now = now or timezone.now()
    return list(
        PurchaseOrder.objects.filter(_mail_claimable(now))
        .order_by("sent_at")
        .values_list("pk", flat=True)
    )


def mail_lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.PURCHASE_ORDER_MAIL_LEASE_SECONDS)


def _mail_claimable(now: datetime.datetime) -> Q:
    return Q(mail_status=OrderMailStatus.PENDING) | Q(
        mail_status=OrderMailStatus.SENDING, mail_claimed_at__lte=now - mail_lease()
    )


def _claim_mail(order_id: uuid.UUID) -> datetime.datetime | None:
    """Claim the order's e-mail if it is owed and nobody's claim is running; return the
    claim's time (which identifies it), or None.

    Two workers claiming at once both UPDATE the row; PostgreSQL makes the second wait for
    the first and evaluate the condition again on the row the first left, claimed: it wins
    nothing.
    """
    now = timezone.now()
    claimed = (
        PurchaseOrder.objects.filter(pk=order_id)
        .filter(_mail_claimable(now))
        .update(mail_status=OrderMailStatus.SENDING, mail_claimed_at=now)
    )
    return now if claimed else None


# Internals --------------------------------------------------------------------------------


def _queue_mail(order_id: str) -> None:
    # Imported here: the task module reads the services' models and selectors.
    from transfers import tasks

    tasks.queue_purchase_order_mail(order_id)


def _record_step(
    order: PurchaseOrder,
    *,
    actor: User,
    step: PurchaseOrderStep,
    from_status: str,
    note: str,
) -> PurchaseOrder:
    order.save()
    event = PurchaseOrderEvent.objects.create(
        order=order,
        actor=actor,
        step=step,
        from_status=from_status,
        to_status=order.status,
        note=note,
    )
    realtime.publish(
        PURCHASE_ORDER_UPDATED, PurchaseOrderUpdated.of(order, event), branch=order.branch_id
    )
    return order


def _locked(actor: AnyUser, order_id: uuid.UUID | str) -> PurchaseOrder:
    """The order locked for update, if ``actor`` may see it; else UnknownPurchaseOrder, the
    same for an order that does not exist."""
    try:
        return (
            permissions.scope(PurchaseOrder.objects.all(), actor)
            .select_for_update(of=("self",))
            .select_related("branch", "supplier")
            .get(pk=order_id)
        )
    except (PurchaseOrder.DoesNotExist, ValidationError, ValueError):
        raise UnknownPurchaseOrder(f"No purchase order with id {order_id}.") from None


def _taking(
    step: PurchaseOrderStep, *, actor: AnyUser, order_id: uuid.UUID | str
) -> tuple[PurchaseOrder, purchase_workflow.Step]:
    """The order locked, and the workflow's entry for ``step``, once ``actor`` may take it
    now: UnknownPurchaseOrder when they may not see it, NotPermitted when they may not take
    the step, IllegalOrderStep when its state does not allow it, in that order."""
    order = _locked(actor, order_id)
    entry = purchase_workflow.STEPS[step]
    rights = purchase_selectors.step_rights(actor, order)
    if not purchase_workflow.permitted(entry, order, rights):
        raise permissions.deny(actor, f"You may not {entry.name} order {order.reference}.")
    if not purchase_workflow.legal(entry, order):
        raise IllegalOrderStep(
            f"{order.reference} is {order.get_status_display()}; {entry.refusal}."
        )
    return order, entry


def _local_date(moment: datetime.datetime, zone: str) -> datetime.date:
    try:
        return timezone.localtime(moment, zoneinfo.ZoneInfo(zone)).date()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.localdate(moment)


def _supplier(supplier_id: uuid.UUID | str) -> Supplier:
    try:
        supplier = Supplier.objects.get(pk=supplier_id)
    except (Supplier.DoesNotExist, ValidationError, ValueError):
        raise UnknownSupplier(f"No supplier with id {supplier_id}.", field="supplier") from None
    if not supplier.is_active:
        raise InvalidInput(
            f"Supplier {supplier.code} is inactive; it takes no orders.", field="supplier"
        )
    return supplier


type _ParsedItem = tuple[uuid.UUID, Decimal, Decimal | None]


def _parse_items(items: Sequence[OrderItem]) -> list[_ParsedItem]:
    """Everything about the lines that needs no database: ids, quantities, prices."""
    if not items:
        raise InvalidInput("An order needs at least one line.", field="items")
    if len(items) > MAX_LINES:
        raise InvalidInput(f"An order takes at most {MAX_LINES} lines.", field="items")
    parsed: list[_ParsedItem] = []
    seen: dict[uuid.UUID, int] = {}
    for index, item in enumerate(items):
        with at_field(f"items.{index}.product"):
            product_id = _as_uuid(item.product_id)
            if product_id in seen:
                raise InvalidInput(
                    f"Line {seen[product_id] + 1} is for the same product; combine them."
                )
        with at_field(f"items.{index}.quantity"):
            amount = parse_quantity(item.quantity, name="Quantity", sign=1)
        with at_field(f"items.{index}.unit_price"):
            price = _parse_price(item.unit_price, name="Unit price")
        seen[product_id] = index
        parsed.append((product_id, amount, price))
    return parsed


def _write_lines(order: PurchaseOrder, parsed: list[_ParsedItem]) -> None:
    """The order's lines, each checked against what its supplier sells it as."""
    offers = {
        offer.product_id: offer
        for offer in SupplierProduct.objects.filter(
            supplier_id=order.supplier_id, product_id__in=[pid for pid, _, _ in parsed]
        ).select_related("product")
    }
    lines = []
    for index, (product_id, amount, price) in enumerate(parsed):
        offer = offers.get(product_id)
        with at_field(f"items.{index}.product"):
            if offer is None:
                # Only on the way to a refusal: say which product, by its SKU.
                sku = Product.objects.filter(pk=product_id).values_list("sku", flat=True).first()
                if sku is None:
                    raise UnknownProduct(f"No product with id {product_id}.")
                raise InvalidInput(f"Supplier {order.supplier.code} does not sell {sku}.")
            product = offer.product
            if not product.is_active:
                raise InactiveProduct(f"Product {product.sku} is inactive; it is not ordered.")
        with at_field(f"items.{index}.quantity"):
            check_unit(amount, product, name="Quantity")
            _check_packs(amount, offer, supplier_code=order.supplier.code)
        lines.append(
            PurchaseOrderLine(
                order=order,
                product=product,
                supplier_sku=offer.supplier_sku,
                quantity_ordered=amount,
                unit_price=offer.price if price is None else price,
            )
        )
    PurchaseOrderLine.objects.bulk_create(lines)


def _check_packs(amount: Decimal, offer: SupplierProduct, *, supplier_code: str) -> None:
    product = offer.product
    pack = offer.pack_size
    if amount % pack != 0:
        raise InvalidInput(
            f"{supplier_code} sells {product.sku} in packs of "
            f"{format_quantity(pack)} {product.unit}; order a multiple of "
            f"{format_quantity(pack)}."
        )
    if amount < offer.minimum_order_quantity:
        raise InvalidInput(
            f"{supplier_code} takes at least "
            f"{format_quantity(offer.minimum_order_quantity)} {product.unit} of {product.sku} "
            f"in one order; {format_quantity(amount)} is less."
        )


type _ParsedReceipt = tuple[uuid.UUID, Decimal, Decimal | None, str]


def _parse_receipt_items(items: Sequence[ReceiptItem]) -> list[_ParsedReceipt]:
    if not items:
        raise InvalidInput("Say how much of which product arrived.", field="items")
    if len(items) > MAX_LINES:
        raise InvalidInput(f"A receipt takes at most {MAX_LINES} lines.", field="items")
    parsed: list[_ParsedReceipt] = []
    seen: dict[uuid.UUID, int] = {}
    for index, item in enumerate(items):
        with at_field(f"items.{index}.product"):
            product_id = _as_uuid(item.product_id)
            if product_id in seen:
                raise InvalidInput(
                    f"Line {seen[product_id] + 1} is for the same product; combine them."
                )
        with at_field(f"items.{index}.quantity"):
            amount = parse_quantity(item.quantity, name="Quantity", sign=1)
        with at_field(f"items.{index}.unit_cost"):
            cost = _parse_price(item.unit_cost, name="Unit cost")
        reason = _clean_text(item.reason, field=f"items.{index}.reason", limit=REASON_MAX_LENGTH)
        seen[product_id] = index
        parsed.append((product_id, amount, cost, reason))
    return parsed


def _parse_price(value: Quantity | None, *, name: str) -> Decimal | None:
    """A price of one unit: >= 0, at most four decimals, below the column's limit."""
    if value is None:
        return None
    if isinstance(value, bool | float):
        raise InvalidInput(f"{name} must be a decimal number, not {type(value).__name__}.")
    try:
        price = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number, got {value!r}.") from None
    if not price.is_finite():
        raise InvalidInput(f"{name} must be a finite number.")
    if price < 0:
        raise InvalidInput(f"{name} cannot be negative.")
    if price >= _PRICE_LIMIT:
        raise InvalidInput(f"{name} must be less than {_PRICE_LIMIT:,}.")
    if price != price.quantize(_PRICE_QUANTUM):
        raise InvalidInput(f"{name} has more than {PRICE_DECIMAL_PLACES} decimal places.")
    return price.quantize(_PRICE_QUANTUM)


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise UnknownProduct(f"{value!r} is not a product id.") from None


@contextmanager
def _items_named(*, order: list[int]) -> Iterator[None]:
    """A stock refusal names its batch line (``lines.<j>.<field>``); say which of the
    caller's items that was (``items.<i>.<field>``): ``order[j]`` is ``i``."""
    try:
        yield
    except DomainError as error:
        parts = (error.field or "").split(".", 2)
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
            index = int(parts[1])
            if index < len(order):
                error.field = f"items.{order[index]}.{parts[2]}"
                prefix = f"Line {index + 1}: "
                if error.message.startswith(prefix):
                    error.message = f"Line {order[index] + 1}: {error.message[len(prefix) :]}"
                    error.args = (error.message,)
        raise


def _clean_text(text: str, *, field: str, limit: int = NOTE_MAX_LENGTH) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise InvalidInput(f"The {field} is longer than {limit} characters.", field=field)
    return text
