"""Every change of stock goes through these functions.

Each runs in one transaction: it checks that the actor may do this at the branch (see
``accounts.permissions``), locks the (branch, product) level row, checks the rules,
updates ``on_hand`` and ``version``, appends one movement to the ledger and sends
``stock_level_changed``. A rule broken raises a DomainError and nothing is written.
"""

import hashlib
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import partial

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, models, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from accounts import permissions
from accounts.models import User
from accounts.permissions import Action
from branches.models import Branch
from catalog.models import (
    MAX_QUANTITY,
    PRICE_DECIMAL_PLACES,
    PRICE_MAX_DIGITS,
    Product,
    Supplier,
    SupplierProduct,
    Unit,
)
from inventory_project.kernel import realtime
from inventory_project.kernel.access import require_admin
from inventory_project.kernel.errors import Conflict, DomainError, InvalidInput, NotFound
from stock.errors import (
    InactiveBranch,
    InactiveProduct,
    InsufficientStock,
    InvalidQuantity,
    UnknownBranch,
    UnknownProduct,
)
from stock.events import STOCK_CHANGED, THRESHOLD_CHANGED, StockChanged, ThresholdChanged
from stock.models import (
    AdjustmentReason,
    ImportKind,
    ImportStatus,
    MovementKind,
    ReorderRule,
    StockImport,
    StockLevel,
    StockMovement,
)
from stock.quantities import Quantity, check_unit, parse_quantity, say_quantity
from stock.signals import stock_level_changed

NOTE_MAX_LENGTH = StockMovement._meta.get_field("note").max_length


@dataclass(frozen=True)
class MovementLine:
    """One line of a stock write: a product and an amount, read according to the kind.

    ``quantity`` is the amount received or issued (> 0), the signed change of an adjustment
    (non-zero) or the quantity counted (>= 0). ``reason`` is for adjustments only.
    """

    product_id: uuid.UUID | str
    quantity: Quantity
    reason: str = ""
    note: str = ""
    # What one unit cost: RECEIPT and TRANSFER_IN only (a receipt against a purchase order,
    # a transfer arriving at the cost it left with); it moves the level's average cost.
    unit_cost: Quantity | None = None


@dataclass(frozen=True)
class _KindRule:
    action: Action
    # How the amount is named in messages, and the input field it comes from.
    label: str
    field: str
    # parse_quantity's sign: 1 > 0, 0 non-zero, None >= 0.
    sign: int | None


_RULES = {
    MovementKind.RECEIPT: _KindRule(Action.RECEIVE_STOCK, N_("Quantity"), "quantity", 1),
    MovementKind.ISSUE: _KindRule(Action.ISSUE_STOCK, N_("Quantity"), "quantity", 1),
    MovementKind.ADJUSTMENT: _KindRule(Action.ADJUST_STOCK, N_("Adjustment"), "delta", 0),
    MovementKind.COUNT: _KindRule(Action.COUNT_STOCK, N_("Counted quantity"), "counted", None),
    MovementKind.TRANSFER_OUT: _KindRule(Action.DISPATCH_TRANSFER, N_("Quantity"), "quantity", 1),
    MovementKind.TRANSFER_IN: _KindRule(Action.RECEIVE_TRANSFER, N_("Quantity"), "quantity", 1),
}

# Kinds written by record_stock_batch; transfers write theirs with record_transfer_movements.
BATCH_KINDS = (
    MovementKind.RECEIPT,
    MovementKind.ISSUE,
    MovementKind.ADJUSTMENT,
    MovementKind.COUNT,
)
TRANSFER_KINDS = (MovementKind.TRANSFER_OUT, MovementKind.TRANSFER_IN)
MAX_BATCH_LINES = 500
# The kinds whose lines may carry a unit cost.
COSTED_KINDS = (MovementKind.RECEIPT, MovementKind.TRANSFER_IN)
_COST_QUANTUM = Decimal(1).scaleb(-PRICE_DECIMAL_PLACES)
MAX_UNIT_COST = Decimal(10 ** (PRICE_MAX_DIGITS - PRICE_DECIMAL_PLACES)) - _COST_QUANTUM


def parse_unit_cost(value: Quantity) -> Decimal:
    """Parse the cost of one unit: a finite decimal >= 0 with at most four decimals, or raise
    InvalidInput saying what is wrong (the caller names the field)."""
    if isinstance(value, bool | float):
        raise InvalidInput(f"Unit cost must be a decimal number, not {type(value).__name__}.")
    try:
        cost = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput(
            _("The unit cost must be a number, got %(value)s.") % {"value": repr(value)}
        ) from None
    if not cost.is_finite():
        raise InvalidInput(_("The unit cost must be a finite number."))
    if cost < 0:
        raise InvalidInput(_("The unit cost cannot be negative."))
    if cost > MAX_UNIT_COST:
        raise InvalidInput(
            _("The unit cost is larger than the largest cost kept (%(max)s).")
            % {"max": say_quantity(MAX_UNIT_COST)}
        )
    if cost != cost.quantize(_COST_QUANTUM):
        raise InvalidInput(
            _("The unit cost has more than %(places)d decimal places.")
            % {"places": PRICE_DECIMAL_PLACES}
        )
    return cost.quantize(_COST_QUANTUM)


def average_cost_after(
    *,
    on_hand: Decimal,
    average_cost: Decimal | None,
    cost_price: Decimal,
    quantity: Decimal,
    unit_cost: Decimal,
) -> Decimal:
    """The moving average cost of a level holding ``on_hand`` at ``average_cost`` (empty: the
    product's ``cost_price``) once ``quantity`` more arrives at ``unit_cost``, to four decimals
    rounded half to even. Exact arithmetic, so that it equals what _IN_PLACE_SQL computes."""
    if on_hand == 0:
        return unit_cost
    before = cost_price if average_cost is None else average_cost
    exact = (Fraction(on_hand) * Fraction(before) + Fraction(quantity) * Fraction(unit_cost)) / (
        Fraction(on_hand) + Fraction(quantity)
    )
    # round() of a Fraction rounds half to even; the result's denominator divides 10**4.
    rounded = round(exact, PRICE_DECIMAL_PLACES)
    return (Decimal(rounded.numerator) / Decimal(rounded.denominator)).quantize(_COST_QUANTUM)


def receive_stock(
    *,
    actor: User,
    branch_id: uuid.UUID | str,
    product_id: uuid.UUID | str,
    quantity: Quantity,
    note: str = "",
    unit_cost: Quantity | None = None,
) -> StockMovement:
    """Record goods arriving at a branch (RECEIPT): on hand grows by ``quantity`` (> 0).

    With a ``unit_cost`` the level's moving average cost takes the goods in at that cost;
    without, they enter at the current average.
    """
    line = MovementLine(product_id=product_id, quantity=quantity, note=note, unit_cost=unit_cost)
    return _record(actor=actor, branch_id=branch_id, kind=MovementKind.RECEIPT, lines=[line])[0]


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
    line = MovementLine(product_id=product_id, quantity=quantity, note=note)
    return _record(actor=actor, branch_id=branch_id, kind=MovementKind.ISSUE, lines=[line])[0]


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
    line = MovementLine(product_id=product_id, quantity=delta, reason=reason, note=note)
    return _record(actor=actor, branch_id=branch_id, kind=MovementKind.ADJUSTMENT, lines=[line])[0]


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
    line = MovementLine(product_id=product_id, quantity=counted, note=note)
    return _record(actor=actor, branch_id=branch_id, kind=MovementKind.COUNT, lines=[line])[0]


def record_stock_batch(
    *,
    actor: User,
    branch_id: uuid.UUID | str,
    kind: MovementKind | str,
    lines: Sequence[MovementLine],
) -> list[StockMovement]:
    """Apply several lines of one kind at one branch, all or nothing (a scanner session).

    Each line is checked as its single form would be (receive_stock, issue_stock,
    adjust_stock, count_stock); the first line that breaks a rule raises, naming the line,
    and nothing is written. A product may appear only once.
    """
    if kind not in BATCH_KINDS:
        choices = ", ".join(BATCH_KINDS)
        raise InvalidInput(f"Kind {kind!r} is not one of: {choices}.", field="kind")
    if not lines:
        raise InvalidInput("A batch needs at least one line.", field="lines")
    if len(lines) > MAX_BATCH_LINES:
        raise InvalidInput(
            f"A batch takes at most {MAX_BATCH_LINES} lines; split it.", field="lines"
        )
    return _record(
        actor=actor, branch_id=branch_id, kind=MovementKind(kind), lines=lines, batch=True
    )


@dataclass(frozen=True)
class ThresholdLine:
    """A product's low-stock threshold at a branch; ``None`` inherits the product's."""

    product_id: uuid.UUID | str
    threshold: Quantity | None


def set_low_stock_threshold(
    *,
    actor: User,
    branch_id: uuid.UUID | str,
    product_id: uuid.UUID | str,
    threshold: Quantity | None,
) -> StockLevel:
    """Set the branch's own low-stock threshold for a product; ``None`` inherits the default."""
    line = ThresholdLine(product_id=product_id, threshold=threshold)
    return _set_thresholds(actor=actor, branch_id=branch_id, lines=[line], batch=False)[0]


def set_low_stock_thresholds(
    *, actor: User, branch_id: uuid.UUID | str, lines: Sequence[ThresholdLine]
) -> list[StockLevel]:
    """Set several products' thresholds at one branch, all or nothing.

    An error names its line as record_stock_batch's do; a product may appear once.
    """
    if not lines:
        raise InvalidInput("Give at least one threshold.", field="lines")
    if len(lines) > MAX_BATCH_LINES:
        raise InvalidInput(
            f"At most {MAX_BATCH_LINES} thresholds at once; split them.", field="lines"
        )
    return _set_thresholds(actor=actor, branch_id=branch_id, lines=lines, batch=True)


def _set_thresholds(
    *, actor: User, branch_id: uuid.UUID | str, lines: Sequence[ThresholdLine], batch: bool
) -> list[StockLevel]:
    parsed: dict[uuid.UUID, Decimal | None] = {}
    first_line: dict[uuid.UUID, int] = {}
    for index, line in enumerate(lines):
        with _at_line(index, "product", batch=batch):
            product_id = _as_uuid(line.product_id, UnknownProduct, "product")
            if product_id in parsed:
                raise InvalidInput(f"Line {first_line[product_id]} is for the same product.")
        first_line[product_id] = index + 1
        with _at_line(index, "threshold", batch=batch):
            value = line.threshold
            parsed[product_id] = (
                None if value is None else parse_quantity(value, name="Threshold", sign=None)
            )
    with transaction.atomic():
        permissions.check(actor, Action.SET_THRESHOLDS, branch_id)
        levels = _lock_levels(branch_id=branch_id, product_ids=list(parsed), batch=batch)
        now = timezone.now()
        previous = {}
        changed = []
        for index, (product_id, value) in enumerate(parsed.items()):
            level = levels[product_id]
            if value is not None:
                with _at_line(index, "threshold", batch=batch):
                    check_unit(value, level.product, name="Threshold")
            previous[product_id] = level.threshold
            if level.low_stock_threshold != value:
                changed.append(level)
            level.low_stock_threshold = value
            level.updated_at = now
        _save_levels(levels.values(), ["low_stock_threshold", "updated_at"])
        for level in changed:
            data = ThresholdChanged.of(level, previous=previous[level.product_id], actor=actor)
            realtime.publish(THRESHOLD_CHANGED, data, branch=level.branch_id)
        for product_id, level in levels.items():
            stock_level_changed.send(
                sender=StockLevel,
                level=level,
                movement=None,
                previous_threshold=previous[product_id],
            )
        return list(levels.values())


def set_reorder_rule(
    *,
    actor: User,
    branch_id: uuid.UUID | str,
    product_id: uuid.UUID | str,
    minimum: Quantity,
    maximum: Quantity,
    supplier_id: uuid.UUID | str | None = None,
) -> ReorderRule:
    """Replenish the product at the branch when it falls below ``minimum``, up to ``maximum``,
    buying from ``supplier_id`` (None: the product's preferred supplier). Replaces the level's
    rule; creates the level if it has none yet. Needs ORDER_STOCK at the branch.

    InvalidInput on ``minimum``/``maximum`` (not a quantity, maximum below minimum) or
    ``supplier`` (unknown, inactive, or not selling the product).
    """
    with _at_line(0, "product", batch=False):
        product_uuid = _as_uuid(product_id, UnknownProduct, "product")
    with _at_line(0, "minimum", batch=False):
        low = parse_quantity(minimum, name="Minimum", sign=None)
    with _at_line(0, "maximum", batch=False):
        high = parse_quantity(maximum, name="Maximum", sign=None)
        if high < low:
            raise InvalidInput(
                _("The maximum (%(maximum)s) cannot be below the minimum (%(minimum)s).")
                % {"maximum": say_quantity(high), "minimum": say_quantity(low)}
            )
    supplier_uuid = None
    if supplier_id not in (None, ""):
        try:
            supplier_uuid = uuid.UUID(str(supplier_id))
        except ValueError:
            raise InvalidInput(
                _("No supplier with id %(id)s.") % {"id": supplier_id}, field="supplier"
            ) from None
    with transaction.atomic():
        permissions.check(actor, Action.ORDER_STOCK, branch_id)
        level = _lock_levels(branch_id=branch_id, product_ids=[product_uuid])[product_uuid]
        with _at_line(0, "minimum", batch=False):
            check_unit(low, level.product, name="Minimum")
        with _at_line(0, "maximum", batch=False):
            check_unit(high, level.product, name="Maximum")
        supplier = None
        if supplier_uuid is not None:
            supplier = _rule_supplier(supplier_uuid, level.product)
        rule = ReorderRule.objects.filter(level=level).first() or ReorderRule(level=level)
        rule.minimum, rule.maximum, rule.supplier, rule.updated_by = low, high, supplier, actor
        rule.save()
        return rule


def _rule_supplier(supplier_id: uuid.UUID, product: Product) -> Supplier:
    supplier = Supplier.objects.filter(pk=supplier_id).first()
    if supplier is None:
        raise InvalidInput(_("No supplier with id %(id)s.") % {"id": supplier_id}, field="supplier")
    if not supplier.is_active:
        raise InvalidInput(
            _("Supplier %(code)s is inactive; choose another.") % {"code": supplier.code},
            field="supplier",
        )
    if not SupplierProduct.objects.filter(supplier=supplier, product=product).exists():
        raise InvalidInput(
            _("Supplier %(code)s does not sell %(sku)s.")
            % {"code": supplier.code, "sku": product.sku},
            field="supplier",
        )
    return supplier


def clear_reorder_rule(
    *, actor: User, branch_id: uuid.UUID | str, product_id: uuid.UUID | str
) -> bool:
    """Remove the level's reorder rule: the defaults apply again (see
    stock.selectors.reorder_terms). Needs ORDER_STOCK; whether there was a rule."""
    branch_uuid = _as_uuid(branch_id, UnknownBranch, "branch")
    product_uuid = _as_uuid(product_id, UnknownProduct, "product")
    with transaction.atomic():
        permissions.require(actor, Action.ORDER_STOCK, branch_uuid)
        removed, _by_model = ReorderRule.objects.filter(
            level__branch_id=branch_uuid, level__product_id=product_uuid
        ).delete()
        return bool(removed)


def record_transfer_movements(
    *,
    actor: User,
    branch_id: uuid.UUID | str,
    kind: MovementKind,
    lines: Sequence[MovementLine],
) -> list[StockMovement]:
    """Write a transfer's movements at one branch, all or nothing: TRANSFER_OUT when it
    ships (refused whole when any line lacks stock), TRANSFER_IN when goods arrive.

    Called by the transfers services inside their own transaction, after they locked the
    transfer and decided that ``actor`` may take the step, so the right is not asked again
    here; the stock rows are locked here, in primary-key order, as for every write.
    """
    if kind not in TRANSFER_KINDS:
        raise ValueError(f"record_transfer_movements() writes {TRANSFER_KINDS}, not {kind}")
    return _record(
        actor=actor, branch_id=branch_id, kind=kind, lines=lines, batch=True, permitted=True
    )


def _record(
    *,
    actor: User,
    branch_id: uuid.UUID | str,
    kind: MovementKind,
    lines: Sequence[MovementLine],
    batch: bool = False,
    permitted: bool = False,
) -> list[StockMovement]:
    rule = _RULES[kind]
    # A single write names its amount as its own field does (quantity, delta, counted);
    # every batch line calls it quantity.
    amount_field = "quantity" if batch else rule.field
    parsed = [
        _parse_line(line, index, rule, kind, amount_field=amount_field, batch=batch)
        for index, line in enumerate(lines)
    ]
    product_ids = [product_id for product_id, _, _ in parsed]
    first_line: dict[uuid.UUID, int] = {}
    for index, product_id in enumerate(product_ids):
        if product_id in first_line:
            with _at_line(index, "product", batch=batch):
                raise InvalidInput(
                    f"Line {first_line[product_id]} is for the same product; combine them."
                )
        first_line[product_id] = index + 1
    with transaction.atomic():
        if not permitted:
            permissions.check(actor, rule.action, branch_id)
        if not batch and kind in _IN_PLACE_SIGN:
            product_id, amount, line = parsed[0]
            moved = _move_in_place(
                actor=actor,
                branch_id=branch_id,
                kind=kind,
                product_id=product_id,
                amount=amount,
                line=line,
            )
            if moved is not None:
                StockMovement.objects.bulk_create([moved])
                _announce([moved], {product_id: moved.stock_level})
                return [moved]
        levels = _lock_levels(branch_id=branch_id, product_ids=product_ids, batch=batch)
        now = timezone.now()
        movements = []
        for index, (product_id, amount, line) in enumerate(parsed):
            level = levels[product_id]
            with _at_line(index, "product", batch=batch):
                if kind == MovementKind.RECEIPT and not level.product.is_active:
                    raise InactiveProduct(
                        _("Product %(sku)s is inactive; it cannot be received.")
                        % {"sku": level.product.sku}
                    )
            with _at_line(index, amount_field, batch=batch):
                delta = _delta(level, kind, amount, rule)
                movements.append(
                    _move(level, kind=kind, delta=delta, actor=actor, line=line, now=now)
                )
        _save_levels(levels.values(), ["on_hand", "version", "average_cost", "updated_at"])
        StockMovement.objects.bulk_create(movements)
        _announce(movements, levels)
        return movements


def _announce(movements: Sequence[StockMovement], levels: dict[uuid.UUID, StockLevel]) -> None:
    for movement in movements:
        level = levels[movement.product_id]
        realtime.publish(STOCK_CHANGED, StockChanged.of(level, movement), branch=level.branch_id)
        # Alerts follow the level without stock knowing of them.
        stock_level_changed.send(
            sender=StockLevel, level=level, movement=movement, previous_threshold=None
        )


def _save_levels(levels: Iterable[StockLevel], fields: list[str]) -> None:
    levels = list(levels)
    if len(levels) == 1:
        # One row: a plain UPDATE, not bulk_update's CASE over every field.
        level = levels[0]
        StockLevel.objects.filter(pk=level.pk).update(**{f: getattr(level, f) for f in fields})
    else:
        StockLevel.objects.bulk_update(levels, fields)


# The kinds whose change does not depend on what the shelf holds: a single line of these is
# written by one UPDATE that checks every rule of the level in its WHERE clause.
_IN_PLACE_SIGN = {MovementKind.RECEIPT: 1, MovementKind.ISSUE: -1, MovementKind.ADJUSTMENT: 1}
_COUNTABLE_UNITS = ", ".join(f"'{unit.value}'" for unit in Unit if unit.is_countable)
_LEVEL_FIELDS = (
    "id",
    "on_hand",
    "version",
    "low_stock_threshold",
    "average_cost",
    "created_at",
    "updated_at",
)
_PRODUCT_FIELDS = ("id", "sku", "name", "unit", "low_stock_threshold", "cost_price", "is_active")
_BRANCH_FIELDS = ("id", "code", "name", "is_active")
# The new average cost (see average_cost_after): SET reads the row as it was. Rounded half to
# even by exact integer division (numeric division would round at some digit first, and
# round() rounds half away from zero): q = n div d, then up when the remainder is over half d.
# Only a receipt (delta > 0) carries a cost, so d > 0 where it is divided by.
_IN_PLACE_AVERAGE = """
CASE WHEN %(cost)s::numeric IS NULL THEN l.average_cost
     WHEN l.on_hand = 0 THEN %(cost)s::numeric
     ELSE (SELECT (y.q + CASE WHEN 2 * (x.n - y.q * x.d) > x.d THEN 1
                              WHEN 2 * (x.n - y.q * x.d) < x.d THEN 0
                              ELSE mod(y.q, 2) END) * 0.0001
             FROM (SELECT (l.on_hand * COALESCE(l.average_cost, p.cost_price)
                           + %(delta)s * %(cost)s::numeric) * 10000 AS n,
                          l.on_hand + %(delta)s AS d) AS x,
                  LATERAL (SELECT div(x.n, x.d) AS q) AS y)
END"""
_IN_PLACE_SQL = """
UPDATE {level} AS l
   SET on_hand = l.on_hand + %(delta)s, version = l.version + 1, updated_at = %(now)s,
       average_cost = {average}
  FROM {product} AS p, {branch} AS b
 WHERE l.branch_id = %(branch_id)s AND l.product_id = %(product_id)s
   AND p.id = l.product_id AND b.id = l.branch_id AND b.is_active
   AND (p.is_active OR NOT %(needs_active)s)
   AND (%(whole)s OR p.unit NOT IN ({countable}))
   AND l.on_hand + %(delta)s BETWEEN 0 AND %(max)s
RETURNING {columns}
""".format(
    level=StockLevel._meta.db_table,
    product=Product._meta.db_table,
    branch=Branch._meta.db_table,
    countable=_COUNTABLE_UNITS,
    average=_IN_PLACE_AVERAGE,
    columns=", ".join(
        [f"l.{f}" for f in _LEVEL_FIELDS]
        + [f"p.{f}" for f in _PRODUCT_FIELDS]
        + [f"b.{f}" for f in _BRANCH_FIELDS]
    ),
)


def _move_in_place(
    *,
    actor: User,
    branch_id: uuid.UUID | str,
    kind: MovementKind,
    product_id: uuid.UUID,
    amount: Decimal,
    line: MovementLine,
) -> StockMovement | None:
    """Write one receipt, issue or adjustment in a single statement, or return None having
    changed nothing when any rule is not plainly met (no level yet, an inactive branch or
    product, too little stock, a fraction of a countable unit): the general path then locks
    the row and says what is wrong. The UPDATE takes the row lock itself, so this is the
    same locking as the general path's, in one round trip instead of two.

    PostgreSQL only: SQLite would add decimals as floating point.
    """
    if connection.vendor != "postgresql":
        return None
    try:
        branch_uuid = uuid.UUID(str(branch_id))
    except ValueError:
        return None
    delta = amount * _IN_PLACE_SIGN[kind]
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _IN_PLACE_SQL,
            {
                "delta": delta,
                "now": now,
                "branch_id": branch_uuid,
                "product_id": product_id,
                "needs_active": kind == MovementKind.RECEIPT,
                "whole": amount == amount.to_integral_value(),
                "max": MAX_QUANTITY,
                "cost": line.unit_cost,
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    level_values = row[: len(_LEVEL_FIELDS)]
    product_values = row[len(_LEVEL_FIELDS) : len(_LEVEL_FIELDS) + len(_PRODUCT_FIELDS)]
    branch_values = row[len(_LEVEL_FIELDS) + len(_PRODUCT_FIELDS) :]
    product = _partial(Product, dict(zip(_PRODUCT_FIELDS, product_values, strict=True)))
    branch = _partial(Branch, dict(zip(_BRANCH_FIELDS, branch_values, strict=True)))
    level = _partial(
        StockLevel,
        {
            **dict(zip(_LEVEL_FIELDS, level_values, strict=True)),
            "branch_id": branch.pk,
            "product_id": product.pk,
        },
    )
    level.branch, level.product = branch, product
    return StockMovement(
        stock_level=level,
        branch=branch,
        product=product,
        kind=kind,
        delta=delta,
        on_hand_after=level.on_hand,
        version=level.version,
        actor=actor,
        reason=line.reason,
        note=line.note,
        # Only a costed line changes the average: otherwise the one returned is also the one
        # before, what a unit of this movement is worth.
        unit_cost=level.average_cost if line.unit_cost is None else line.unit_cost,
        average_cost_after=level.average_cost,
    )


def _parse_line(
    line: MovementLine,
    index: int,
    rule: _KindRule,
    kind: MovementKind,
    *,
    amount_field: str,
    batch: bool,
) -> tuple[uuid.UUID, Decimal, MovementLine]:
    """Everything about a line that needs no database: amounts, reasons, notes, ids."""
    with _at_line(index, "product", batch=batch):
        product_id = _as_uuid(line.product_id, UnknownProduct, "product")
    with _at_line(index, amount_field, batch=batch):
        amount = parse_quantity(line.quantity, name=rule.label, sign=rule.sign)
    with _at_line(index, "note", batch=batch):
        note = _clean_note(line.note)
    with _at_line(index, "reason", batch=batch):
        if kind != MovementKind.ADJUSTMENT and line.reason:
            raise InvalidInput(_("Only adjustments take a reason."))
        if kind == MovementKind.ADJUSTMENT and line.reason not in AdjustmentReason.values:
            choices = ", ".join(AdjustmentReason.values)
            raise InvalidInput(f"Reason {line.reason!r} is not one of: {choices}.")
    with _at_line(index, "note", batch=batch):
        if line.reason == AdjustmentReason.OTHER and not note:
            raise InvalidInput(_("An adjustment for another reason needs a note explaining it."))
    unit_cost = None
    if line.unit_cost is not None:
        with _at_line(index, "unit_cost", batch=batch):
            if kind not in COSTED_KINDS:
                raise InvalidInput(_("Only receipts and transfers arriving carry a unit cost."))
            unit_cost = parse_unit_cost(line.unit_cost)
    return product_id, amount, replace(line, note=note, unit_cost=unit_cost)


def _delta(level: StockLevel, kind: MovementKind, amount: Decimal, rule: _KindRule) -> Decimal:
    check_unit(amount, level.product, name=rule.label)
    if kind in (MovementKind.ISSUE, MovementKind.TRANSFER_OUT):
        return -amount
    if kind == MovementKind.COUNT:
        return amount - level.on_hand
    return amount


def _move(
    level: StockLevel,
    *,
    kind: MovementKind,
    delta: Decimal,
    actor: User,
    line: MovementLine,
    now: datetime,
) -> StockMovement:
    """Apply ``delta`` to the locked ``level`` in memory and return the unsaved movement."""
    on_hand_after = level.on_hand + delta
    if on_hand_after < 0:
        raise InsufficientStock(
            _("%(branch)s holds %(on_hand)s %(unit)s of %(sku)s; %(amount)s cannot leave.")
            % {
                "branch": level.branch.code,
                "on_hand": say_quantity(level.on_hand),
                "unit": level.product.unit,
                "sku": level.product.sku,
                "amount": say_quantity(-delta),
            }
        )
    if on_hand_after > MAX_QUANTITY:
        raise InvalidQuantity(
            _("On hand would exceed the largest quantity held (%(max)s).")
            % {"max": say_quantity(MAX_QUANTITY)}
        )
    # What a unit of this movement is worth: the cost it arrives at, else the average before.
    unit_cost = level.average_cost
    if line.unit_cost is not None and delta > 0:
        unit_cost = line.unit_cost
        level.average_cost = average_cost_after(
            on_hand=level.on_hand,
            average_cost=level.average_cost,
            cost_price=level.product.cost_price,
            quantity=delta,
            unit_cost=line.unit_cost,
        )
    level.on_hand = on_hand_after
    level.version += 1
    level.updated_at = now
    return StockMovement(
        stock_level=level,
        branch=level.branch,
        product=level.product,
        kind=kind,
        delta=delta,
        on_hand_after=on_hand_after,
        version=level.version,
        actor=actor,
        reason=line.reason,
        note=line.note,
        unit_cost=unit_cost,
        average_cost_after=level.average_cost,
    )


def _partial[M: models.Model](model: type[M], values: dict) -> M:
    """An instance as loaded from the database with just ``values`` (by attname): any
    other field is deferred, so reading it costs a query rather than giving a wrong default."""
    fields = model._meta.concrete_fields
    return model.from_db(
        DEFAULT_DB_ALIAS,
        [f.attname for f in fields if f.attname in values],
        [values[f.attname] for f in fields if f.attname in values],
    )


@contextmanager
def _at_line(index: int, field: str, *, batch: bool) -> Iterator[None]:
    """Name the input at fault in a DomainError: ``quantity``, or ``lines.2.quantity`` and
    "Line 3: ..." in a batch."""
    try:
        yield
    except DomainError as error:
        if error.field is None:
            error.field = f"lines.{index}.{field}" if batch else field
            if batch:
                error.message = f"Line {index + 1}: {error.message}"
                error.args = (error.message,)
        raise


def _lock_levels(
    *, branch_id: uuid.UUID | str, product_ids: Sequence[uuid.UUID], batch: bool = False
) -> dict[uuid.UUID, StockLevel]:
    """Lock the branch's levels of ``product_ids`` for update, creating missing ones.

    Rows are locked in primary-key order, so that two writers touching the same levels
    queue instead of deadlocking. Levels created here are locked after the others; should
    two first movements still deadlock, the database aborts one and the caller's retry runs
    it again.
    """
    branch_uuid = _as_uuid(branch_id, UnknownBranch, "branch")
    levels = _locked(branch_uuid, product_ids)
    missing = [p for p in product_ids if p not in levels]
    if missing:
        if not Branch.objects.filter(pk=branch_uuid).exists():
            raise UnknownBranch(_("No branch with id %(id)s.") % {"id": branch_uuid})
        known = set(Product.objects.filter(pk__in=missing).values_list("pk", flat=True))
        for index, product_id in enumerate(product_ids):
            if product_id in missing and product_id not in known:
                with _at_line(index, "product", batch=batch):
                    raise UnknownProduct(_("No product with id %(id)s.") % {"id": product_id})
        # Two first movements may race to create a row: one inserts, the other waits for it
        # and then locks the same row. Sorted, so that concurrent inserts queue in one order.
        StockLevel.objects.bulk_create(
            [StockLevel(branch_id=branch_uuid, product_id=p) for p in sorted(missing)],
            ignore_conflicts=True,
        )
        levels |= _locked(branch_uuid, missing)
    branch = next(iter(levels.values())).branch
    if not branch.is_active:
        raise InactiveBranch(
            _("Branch %(code)s is inactive; its stock cannot change.") % {"code": branch.code}
        )
    return {p: levels[p] for p in product_ids}


def _locked(branch_id: uuid.UUID, product_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, StockLevel]:
    rows = (
        StockLevel.objects.select_for_update(of=("self",))
        .select_related("branch", "product")
        .filter(branch_id=branch_id, product_id__in=product_ids)
        .order_by("pk")
    )
    return {level.product_id: level for level in rows}


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
        raise InvalidInput(
            _("The note is longer than %(max)d characters.") % {"max": NOTE_MAX_LENGTH}
        )
    return note


# Imports ----------------------------------------------------------------------------------

IMPORT_KINDS = (MovementKind.RECEIPT, MovementKind.COUNT)
# Up to this many products, an import locks just their levels (one statement names them all).
IMPORT_LOCK_LIMIT = 20_000
# Lines recorded, and their movements inserted and announced, at a time.
IMPORT_CHUNK = 2000


def record_stock_import(
    *,
    actor: User,
    branch_id: uuid.UUID | str,
    kind: MovementKind | str,
    lines: Sequence[MovementLine],
) -> int:
    """Apply any number of receipts or counts at one branch, all or nothing: the rules of
    record_stock_batch for every line, for a file longer than MAX_BATCH_LINES. Returns the
    number of movements recorded.

    Every level is locked first, in primary-key order as for every write (up to
    IMPORT_LOCK_LIMIT products just theirs, beyond that all of the branch's), then the lines
    are recorded IMPORT_CHUNK at a time in the one transaction; an error names its line
    (``lines.<index>.<field>``, "Line n: ...") counted over all of them.
    """
    if kind not in IMPORT_KINDS:
        choices = ", ".join(IMPORT_KINDS)
        raise InvalidInput(f"Kind {kind!r} is not one of: {choices}.", field="kind")
    if not lines:
        raise InvalidInput("An import needs at least one line.", field="lines")
    kind = MovementKind(kind)
    rule = _RULES[kind]
    parsed = [
        _parse_line(line, index, rule, kind, amount_field="quantity", batch=True)
        for index, line in enumerate(lines)
    ]
    first_line: dict[uuid.UUID, int] = {}
    for index, (product_id, _amount, _line) in enumerate(parsed):
        if product_id in first_line:
            with _at_line(index, "product", batch=True):
                raise InvalidInput(
                    f"Line {first_line[product_id]} is for the same product; combine them."
                )
        first_line[product_id] = index + 1
    recorded = 0
    with transaction.atomic():
        permissions.check(actor, rule.action, branch_id)
        branch_uuid = _lock_import_levels(branch_id, list(first_line))
        for start in range(0, len(parsed), IMPORT_CHUNK):
            chunk = parsed[start : start + IMPORT_CHUNK]
            levels = _locked(branch_uuid, [product_id for product_id, _, _ in chunk])
            now = timezone.now()
            movements = []
            for offset, (product_id, amount, line) in enumerate(chunk):
                level = levels[product_id]
                with _at_line(start + offset, "product", batch=True):
                    if kind == MovementKind.RECEIPT and not level.product.is_active:
                        raise InactiveProduct(
                            _("Product %(sku)s is inactive; it cannot be received.")
                            % {"sku": level.product.sku}
                        )
                with _at_line(start + offset, "quantity", batch=True):
                    delta = _delta(level, kind, amount, rule)
                    movements.append(
                        _move(level, kind=kind, delta=delta, actor=actor, line=line, now=now)
                    )
            _save_import_levels(list(levels.values()))
            StockMovement.objects.bulk_create(movements, batch_size=1000)
            _announce(movements, levels)
            recorded += len(movements)
    return recorded


def _lock_import_levels(branch_id: uuid.UUID | str, product_ids: list[uuid.UUID]) -> uuid.UUID:
    """Create the branch's missing levels of ``product_ids`` and lock them in primary-key
    order: just theirs up to IMPORT_LOCK_LIMIT products, else every level of the branch (a
    database statement takes at most 65,535 parameters)."""
    branch_uuid = _as_uuid(branch_id, UnknownBranch, "branch")
    branch = Branch.objects.filter(pk=branch_uuid).first()
    if branch is None:
        raise UnknownBranch(_("No branch with id %(id)s.") % {"id": branch_uuid})
    if not branch.is_active:
        raise InactiveBranch(
            _("Branch %(code)s is inactive; its stock cannot change.") % {"code": branch.code}
        )
    levels = StockLevel.objects.filter(branch_id=branch_uuid)
    held = set(levels.values_list("product_id", flat=True))
    missing = [p for p in product_ids if p not in held]
    known: set[uuid.UUID] = set()
    for start in range(0, len(missing), IMPORT_LOCK_LIMIT):
        chunk = missing[start : start + IMPORT_LOCK_LIMIT]
        known |= set(Product.objects.filter(pk__in=chunk).values_list("pk", flat=True))
    for index, product_id in enumerate(product_ids):
        if product_id not in held and product_id not in known:
            with _at_line(index, "product", batch=True):
                raise UnknownProduct(_("No product with id %(id)s.") % {"id": product_id})
    # Sorted, so that concurrent first movements insert in one order (see _lock_levels).
    StockLevel.objects.bulk_create(
        [StockLevel(branch_id=branch_uuid, product_id=p) for p in sorted(missing)],
        ignore_conflicts=True,
        batch_size=1000,
    )
    if len(product_ids) <= IMPORT_LOCK_LIMIT:
        levels = levels.filter(product_id__in=product_ids)
    list(levels.select_for_update().order_by("pk").values_list("pk", flat=True))
    return branch_uuid


_IMPORT_SAVE_SQL = f"""
UPDATE {StockLevel._meta.db_table} AS l
   SET on_hand = v.on_hand, version = v.version, updated_at = v.updated_at
  FROM (VALUES {{rows}}) AS v(id, on_hand, version, updated_at)
 WHERE l.id = v.id
"""


def _save_import_levels(levels: list[StockLevel]) -> None:
    """Write the levels' on hand and version: on PostgreSQL one UPDATE from a list of
    values per thousand levels (bulk_update's CASE over every row costs far more to build)."""
    if connection.vendor != "postgresql":
        _save_levels(levels, ["on_hand", "version", "updated_at"])
        return
    for start in range(0, len(levels), 1000):
        chunk = levels[start : start + 1000]
        rows = ", ".join(["(%s::uuid, %s::numeric, %s::bigint, %s::timestamptz)"] * len(chunk))
        params = [
            value
            for level in chunk
            for value in (level.pk, level.on_hand, level.version, level.updated_at)
        ]
        with connection.cursor() as cursor:
            cursor.execute(_IMPORT_SAVE_SQL.format(rows=rows), params)


class ImportNotFound(NotFound):
    code = "unknown_import"


def preview_import(
    *,
    actor: User,
    kind: str,
    file_name: str,
    data: bytes,
    branch_id: uuid.UUID | str | None = None,
    encoding: str = "auto",
    create_categories: bool = False,
) -> StockImport:
    """Read and check a file to import, and keep what was found for ``apply_import``:
    per-row errors, counts, a sample of the changes and, when no row is in error, the rows.

    FileProblem (an InvalidInput on ``file``) when the file as a whole cannot be read.
    A file of this kind for this branch that was applied before is kept, not to be applied.
    """
    from stock import imports

    branch = _import_branch(actor, kind, branch_id)
    table = imports.read_table(data, file_name=file_name, kind=kind, encoding=encoding)
    options = {"encoding": encoding}
    if kind == ImportKind.PRODUCTS:
        options["create_categories"] = bool(create_categories)
    report = imports.check(table, kind=kind, branch=branch, options=options)
    stock_import = StockImport(
        kind=kind,
        branch=branch,
        actor=actor,
        file_name=file_name[: StockImport._meta.get_field("file_name").max_length],
        sha256=hashlib.sha256(data).hexdigest(),
        options=options,
        summary=report.summary(),
        errors=report.errors,
        error_count=report.error_count,
        rows=report.kept,
    )
    if not report.rows_read:
        stock_import.errors = [
            {"row": None, "column": "", "message": _("The file has no rows under its header.")}
        ]
        stock_import.error_count = 1
    twin = imports.applied_twin(stock_import)
    if twin is not None:
        stock_import.rows = []
        stock_import.summary["to_apply"] = 0
    stock_import.save()
    return stock_import


# How long a worker may be applying an import before its page offers Apply again: longer
# than stock.tasks.apply_import may run (its time limit), so that only an import whose worker
# died while applying it runs out of it. Applying it then is safe: apply_import acts once.
IMPORT_APPLY_LEASE = timedelta(minutes=15)


def _locked_import(actor: User, import_id: uuid.UUID | str) -> tuple[StockImport, list]:
    """The import, after the permission check, with every import of the same file, kind
    and branch (its twins) locked in one order: two applying at once queue, and the second
    sees the first applied. ``(import, twins but itself)``."""
    try:
        found = StockImport.objects.select_related("branch").get(pk=import_id)
    except (StockImport.DoesNotExist, ValueError, ValidationError):
        raise ImportNotFound(_("No import with id %(id)s.") % {"id": import_id}) from None
    _import_branch(actor, found.kind, found.branch_id)
    twins = list(
        StockImport.objects.select_for_update(of=("self",))
        .select_related("branch", "applied_by")
        .defer("rows")
        .filter(kind=found.kind, branch_id=found.branch_id, sha256=found.sha256)
        .order_by("pk")
    )
    stock_import = next(twin for twin in twins if twin.pk == found.pk)
    return stock_import, [twin for twin in twins if twin.pk != found.pk]


def _check_applicable(stock_import: StockImport, twins: list[StockImport]) -> None:
    for twin in twins:
        if twin.status == ImportStatus.APPLIED:
            raise Conflict(_already_applied(twin))
    if stock_import.error_count or not stock_import.summary.get("to_apply", 0):
        raise InvalidInput(
            _("This file has rows in error; correct them and upload it again.")
            if stock_import.error_count
            else _("This file changes nothing; there is nothing to apply.")
        )


def import_lease_ends(stock_import: StockImport) -> datetime | None:
    """When the worker applying ``stock_import`` is given up for dead (None: not applying)."""
    if stock_import.status != ImportStatus.APPLYING or stock_import.apply_requested_at is None:
        return None
    return stock_import.apply_requested_at + IMPORT_APPLY_LEASE


def import_being_applied(stock_import: StockImport, *, now: datetime | None = None) -> bool:
    """Whether a worker is applying ``stock_import`` now (asked, and within its lease)."""
    ends = import_lease_ends(stock_import)
    return ends is not None and (now or timezone.now()) < ends


def queue_import(*, actor: User, import_id: uuid.UUID | str) -> StockImport:
    """Ask a worker to apply a previewed import (stock.tasks.apply_import): the checks of
    apply_import now, the import APPLYING, and the task queued once this commits.

    An import applied already, or being applied (within IMPORT_APPLY_LEASE), is answered
    as it is and nothing more is queued; one whose worker died while applying it is queued
    again once its lease ran out. Refused (Conflict) while a twin upload of the same file
    is being applied, or once one was. Should the queue be unreachable, the import goes
    back to PREVIEWED with ``apply_error`` saying so (note_import_not_queued).
    """
    from stock import tasks

    with transaction.atomic():
        stock_import, twins = _locked_import(actor, import_id)
        now = timezone.now()
        if stock_import.status == ImportStatus.APPLIED or import_being_applied(
            stock_import, now=now
        ):
            return stock_import
        _check_applicable(stock_import, twins)
        for twin in twins:
            if import_being_applied(twin, now=now):
                raise Conflict(
                    _("This file is being applied from another upload of it; see that import.")
                )
        stock_import.status = ImportStatus.APPLYING
        stock_import.apply_requested_by = actor
        stock_import.apply_requested_at = now
        stock_import.apply_error = ""
        stock_import.save(
            update_fields=["status", "apply_requested_by", "apply_requested_at", "apply_error"]
        )
        language = translation.get_language()
        transaction.on_commit(
            partial(tasks.queue_apply_import, stock_import.pk, actor.pk, now, language)
        )
    return stock_import


def note_import_not_queued(
    *, import_id: uuid.UUID | str, requested_at: datetime, problem: str
) -> bool:
    """The worker was never asked to apply the import (the queue unreachable): back to
    PREVIEWED, saying ``problem``, so that Apply is offered again. Only the request made at
    ``requested_at``: a later one is left alone. Whether the import was changed."""
    changed = StockImport.objects.filter(
        pk=import_id, status=ImportStatus.APPLYING, apply_requested_at=requested_at
    ).update(status=ImportStatus.PREVIEWED, apply_error=problem)
    return bool(changed)


def note_import_failed(*, import_id: uuid.UUID | str, problem: str) -> bool:
    """Applying the import wrote nothing (a rule broken since the preview, a time limit...):
    back to PREVIEWED, saying ``problem`` on its page. An import applied meanwhile (by a
    second delivery of the task) is left alone. Whether the import was changed."""
    changed = (
        StockImport.objects.filter(pk=import_id)
        .exclude(status=ImportStatus.APPLIED)
        .update(status=ImportStatus.PREVIEWED, apply_error=problem)
    )
    return bool(changed)


def apply_import(*, actor: User, import_id: uuid.UUID | str) -> tuple[StockImport, bool]:
    """Apply a previewed import, all or nothing; ``(import, applied now)``. Run by the
    worker (stock.tasks.apply_import) once queue_import asked for it, or called directly.

    An import applied already is answered as it is (False), so a second apply changes
    nothing (a task delivered twice, a request sent again); one whose file, kind and branch
    were applied by another import is refused (Conflict), as is one with rows in error. A
    rule broken by the time of applying (a product deactivated meanwhile...) raises naming
    the spreadsheet row, nothing written.
    """
    from catalog.services import ImportedProduct, import_catalog

    with transaction.atomic():
        stock_import, twins = _locked_import(actor, import_id)
        if stock_import.status == ImportStatus.APPLIED:
            return stock_import, False
        _check_applicable(stock_import, twins)
        # The kept rows (megabytes for a long file) are read here alone.
        rows = StockImport.objects.values_list("rows", flat=True).get(pk=stock_import.pk)
        if not rows:
            raise InvalidInput(_("This file changes nothing; there is nothing to apply."))
        try:
            if stock_import.kind == ImportKind.PRODUCTS:
                lines = [ImportedProduct(row["row"], row["sku"], row["fields"]) for row in rows]
                categories = stock_import.summary.get("new_categories", [])
                done = import_catalog(actor=actor, categories=categories, products=lines)
                result = {
                    "created_categories": done.created_categories,
                    "created_products": done.created_products,
                    "updated_products": done.updated_products,
                }
            else:
                kind = (
                    MovementKind.RECEIPT
                    if stock_import.kind == ImportKind.OPENING_STOCK
                    else MovementKind.COUNT
                )
                lines = [
                    MovementLine(product_id=product_id, quantity=quantity, note=note)
                    for _row, product_id, quantity, note in rows
                ]
                count = record_stock_import(
                    actor=actor, branch_id=stock_import.branch_id, kind=kind, lines=lines
                )
                result = {"movements": count}
        except DomainError as error:
            raise _at_row(error, rows) from None
        stock_import.status = ImportStatus.APPLIED
        stock_import.applied_at = timezone.now()
        stock_import.applied_by = actor
        stock_import.result = result
        stock_import.apply_error = ""
        stock_import.save(
            update_fields=["status", "applied_at", "applied_by", "result", "apply_error"]
        )
        return stock_import, True


def _import_branch(actor: User, kind: str, branch_id: uuid.UUID | str | None) -> Branch | None:
    """Whom may import what: the catalog, ADMINs; a branch's stock, whoever counts stock
    there (its MANAGERs; ADMINs anywhere). A branch the actor may not see is unknown."""
    if kind == ImportKind.PRODUCTS:
        require_admin(actor, _("Only an administrator can import the catalog."))
        return None
    if kind not in ImportKind.values:
        raise InvalidInput(f"Kind {kind!r} is not an import.", field="kind")
    if not branch_id:
        raise InvalidInput(_("Choose the branch the file is for."), field="branch")
    branch = permissions.require(actor, Action.COUNT_STOCK, branch_id)
    if not branch.is_active:
        raise InactiveBranch(
            _("Branch %(code)s is inactive; its stock cannot change.") % {"code": branch.code},
            field="branch",
        )
    return branch


def _already_applied(stock_import: StockImport) -> str:
    who = stock_import.applied_by
    return _("This file was already applied on %(date)s by %(who)s.") % {
        "date": date_format(timezone.localtime(stock_import.applied_at), "DATETIME_FORMAT"),
        "who": (who.full_name or who.email) if who else "?",
    }


def _at_row(error: DomainError, rows: list) -> DomainError:
    """An apply-time error named by the spreadsheet row rather than the line."""
    field = error.field or ""
    parts = field.split(".")
    if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
        index = int(parts[1])
        if index < len(rows):
            row = rows[index][0]
            column = {"product": "sku"}.get(parts[2], "quantity")
            message = error.message.split(": ", 1)[-1]
            error.field = f"rows.{row}.{column}"
            error.message = _("Row %(row)d: %(message)s") % {"row": row, "message": message}
            error.args = (error.message,)
    return error
