"""The rules every quantity obeys, shared by the services and the forms in front of them."""

from decimal import Decimal, InvalidOperation

from catalog.models import MAX_QUANTITY, QUANTITY_DECIMAL_PLACES, Product
from stock.errors import InvalidQuantity

type Quantity = Decimal | int | str

_QUANTUM = Decimal(1).scaleb(-QUANTITY_DECIMAL_PLACES)


def parse_quantity(value: Quantity, *, name: str, sign: int | None) -> Decimal:
    """Parse an exact decimal quantity, or raise InvalidQuantity saying what is wrong.

    ``sign`` 1 requires > 0, 0 requires non-zero (either sign), None requires >= 0.
    """
    if isinstance(value, bool | float):
        # bool is an int; a float is already inexact. Both are programming errors here.
        raise InvalidQuantity(f"{name} must be a decimal number, not {type(value).__name__}.")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidQuantity(f"{name} must be a number, got {value!r}.") from None
    if not amount.is_finite():
        raise InvalidQuantity(f"{name} must be a finite number.")
    if abs(amount) > MAX_QUANTITY:
        raise InvalidQuantity(f"{name} is larger than the largest quantity held ({MAX_QUANTITY}).")
    if amount != amount.quantize(_QUANTUM):
        raise InvalidQuantity(f"{name} has more than {QUANTITY_DECIMAL_PLACES} decimal places.")
    if sign == 1 and amount <= 0:
        raise InvalidQuantity(f"{name} must be greater than zero.")
    if sign == 0 and amount == 0:
        raise InvalidQuantity(f"{name} must not be zero.")
    if sign is None and amount < 0:
        raise InvalidQuantity(f"{name} cannot be negative.")
    return amount.quantize(_QUANTUM)


def check_unit(amount: Decimal, product: Product, *, name: str) -> None:
    """Countable products (pieces, boxes, packs) move only in whole numbers."""
    if product.is_countable and amount != amount.to_integral_value():
        raise InvalidQuantity(
            f"{name} for {product.sku} must be a whole number of {product.get_unit_display()}."
        )


def format_quantity(amount: Decimal) -> str:
    """A quantity as people write it: ``3`` rather than ``3.000``, ``2.5`` rather than ``2.500``."""
    return f"{amount.normalize():f}"
