"""Every change of stock goes through these functions.

Each runs in one transaction: it checks that the actor may do this at the branch (see
``accounts.permissions``), locks the (branch, product) level row, checks the rules,
updates ``on_hand`` and ``version``, appends one movement to the ledger and sends
``stock_level_changed``. A rule broken raises a DomainError and nothing is written.
"""

import uuid
from decimal import Decimal

from django.db import transaction

from accounts import permissions
from accounts.models import User
from accounts.permissions import Action
from branches.models import Branch
from catalog.models import MAX_QUANTITY, Product
from inventory_project.errors import InvalidInput
from stock.errors import (
    InactiveBranch,
    InactiveProduct,
    InsufficientStock,
    InvalidQuantity,
    UnknownBranch,
    UnknownProduct,
)
from stock.models import AdjustmentReason, MovementKind, StockLevel, StockMovement
from stock.quantities import Quantity, check_unit, format_quantity, parse_quantity
from stock.signals import stock_level_changed

NOTE_MAX_LENGTH = StockMovement._meta.get_field("note").max_length


def receive_stock(
    *,
    actor: User,
    branch_id: uuid.UUID | str,
    product_id: uuid.UUID | str,
    quantity: Quantity,
    note: str = "",
) -> StockMovement:
    """Record goods arriving at a branch (RECEIPT): on hand grows by ``quantity`` (> 0)."""
    amount = parse_quantity(quantity, name="Quantity", sign=1)
    note = _clean_note(note)
    with transaction.atomic():
        permissions.check(actor, Action.RECEIVE_STOCK, branch_id)
        level = _lock_level(branch_id=branch_id, product_id=product_id)
        if not level.product.is_active:
            raise InactiveProduct(
                f"Product {level.product.sku} is inactive; it cannot be received."
            )
        check_unit(amount, level.product, name="Quantity")
        return _record_movement(
            level=level, kind=MovementKind.RECEIPT, delta=amount, actor=actor, note=note
        )


def issue_stock(
    *,
    actor: User,
    branch_id: uuid.UUID | str,
    product_id: uuid.UUID | str,
    quantity: Quantity,
    note: str = "",
) -> StockMovement:
    """Record goods leaving a branch (ISSUE): on hand shrinks by ``quantity`` (> 0).

    Raises InsufficientStock, changing nothing, when the branch holds less than that.
    """
    amount = parse_quantity(quantity, name="Quantity", sign=1)
    note = _clean_note(note)
    with transaction.atomic():
        permissions.check(actor, Action.ISSUE_STOCK, branch_id)
        level = _lock_level(branch_id=branch_id, product_id=product_id)
        check_unit(amount, level.product, name="Quantity")
        return _record_movement(
            level=level, kind=MovementKind.ISSUE, delta=-amount, actor=actor, note=note
        )


def adjust_stock(
    *,
    actor: User,
    branch_id: uuid.UUID | str,
    product_id: uuid.UUID | str,
    delta: Quantity,
    reason: str,
    note: str = "",
) -> StockMovement:
    """Correct on hand by a signed, non-zero ``delta`` for a stated reason (ADJUSTMENT).

    ``reason`` is an AdjustmentReason; OTHER needs a note saying what happened.
    """
    change = parse_quantity(delta, name="Adjustment", sign=0)
    note = _clean_note(note)
    if reason not in AdjustmentReason.values:
        choices = ", ".join(AdjustmentReason.values)
        raise InvalidInput(f"Reason {reason!r} is not one of: {choices}.")
    if reason == AdjustmentReason.OTHER and not note:
        raise InvalidInput("An adjustment for another reason needs a note explaining it.")
    with transaction.atomic():
        permissions.check(actor, Action.ADJUST_STOCK, branch_id)
        level = _lock_level(branch_id=branch_id, product_id=product_id)
        check_unit(change, level.product, name="Adjustment")
        return _record_movement(
            level=level,
            kind=MovementKind.ADJUSTMENT,
            delta=change,
            actor=actor,
            reason=reason,
            note=note,
        )


def count_stock(
    *,
    actor: User,
    branch_id: uuid.UUID | str,
    product_id: uuid.UUID | str,
    counted: Quantity,
    note: str = "",
) -> StockMovement:
    """Record a stocktake (COUNT): on hand becomes ``counted``; the movement holds the difference.

    A count that confirms the books is recorded too (delta 0): it proves the shelf was checked.
    """
    amount = parse_quantity(counted, name="Counted quantity", sign=None)
    note = _clean_note(note)
    with transaction.atomic():
        permissions.check(actor, Action.COUNT_STOCK, branch_id)
        level = _lock_level(branch_id=branch_id, product_id=product_id)
        check_unit(amount, level.product, name="Counted quantity")
        return _record_movement(
            level=level,
            kind=MovementKind.COUNT,
            delta=amount - level.on_hand,
            actor=actor,
            note=note,
        )


def set_low_stock_threshold(
    *,
    actor: User,
    branch_id: uuid.UUID | str,
    product_id: uuid.UUID | str,
    threshold: Quantity | None,
) -> StockLevel:
    """Set the branch's own low-stock threshold for a product; ``None`` inherits the default."""
    value = None if threshold is None else parse_quantity(threshold, name="Threshold", sign=None)
    with transaction.atomic():
        permissions.check(actor, Action.SET_THRESHOLDS, branch_id)
        level = _lock_level(branch_id=branch_id, product_id=product_id)
        if value is not None:
            check_unit(value, level.product, name="Threshold")
        level.low_stock_threshold = value
        level.save(update_fields=["low_stock_threshold", "updated_at"])
        stock_level_changed.send(sender=StockLevel, level=level, movement=None)
        return level


def _record_movement(
    *, level: StockLevel, kind: str, delta: Decimal, actor: User, reason: str = "", note: str = ""
) -> StockMovement:
    on_hand_after = level.on_hand + delta
    if on_hand_after < 0:
        raise InsufficientStock(
            f"{level.branch.code} holds {format_quantity(level.on_hand)} {level.product.unit} "
            f"of {level.product.sku}; {format_quantity(-delta)} cannot leave."
        )
    if on_hand_after > MAX_QUANTITY:
        raise InvalidQuantity(f"On hand would exceed the largest quantity held ({MAX_QUANTITY}).")
    level.on_hand = on_hand_after
    level.version += 1
    level.save(update_fields=["on_hand", "version", "updated_at"])
    movement = StockMovement.objects.create(
        stock_level=level,
        branch_id=level.branch_id,
        product_id=level.product_id,
        kind=kind,
        delta=delta,
        on_hand_after=on_hand_after,
        version=level.version,
        actor=actor,
        reason=reason,
        note=note,
    )
    stock_level_changed.send(sender=StockLevel, level=level, movement=movement)
    return movement


def _lock_level(*, branch_id: uuid.UUID | str, product_id: uuid.UUID | str) -> StockLevel:
    """Return the (branch, product) level locked for update, creating it if it is new."""
    branch_uuid = _as_uuid(branch_id, UnknownBranch, "branch")
    product_uuid = _as_uuid(product_id, UnknownProduct, "product")
    locked = StockLevel.objects.select_for_update(of=("self",)).select_related("branch", "product")
    try:
        level = locked.get(branch_id=branch_uuid, product_id=product_uuid)
    except StockLevel.DoesNotExist:
        if not Branch.objects.filter(pk=branch_uuid).exists():
            raise UnknownBranch(f"No branch with id {branch_uuid}.") from None
        if not Product.objects.filter(pk=product_uuid).exists():
            raise UnknownProduct(f"No product with id {product_uuid}.") from None
        # Two first movements may race to create the row: one inserts, the other waits
        # for it and then locks the same row.
        StockLevel.objects.bulk_create(
            [StockLevel(branch_id=branch_uuid, product_id=product_uuid)], ignore_conflicts=True
        )
        level = locked.get(branch_id=branch_uuid, product_id=product_uuid)
    if not level.branch.is_active:
        raise InactiveBranch(f"Branch {level.branch.code} is inactive; its stock cannot change.")
    return level


def _as_uuid(value: uuid.UUID | str, error: type[Exception], what: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise error(f"No {what} with id {value!r}.") from None


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(f"The note is longer than {NOTE_MAX_LENGTH} characters.")
    return note
