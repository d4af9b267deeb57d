"""The rules every quantity obeys, shared by the services and the forms in front of them."""

from decimal import Decimal, InvalidOperation

from django.utils.formats import number_format
from django.utils.translation import gettext as _

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
    # ``name`` is an English msgid ("Quantity", "Counted quantity"): said in the reader's
    # language.
    said = {"name": _(name)}
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidQuantity(
            _("%(name)s must be a number, got %(value)s.") % {**said, "value": repr(value)}
        ) from None
    if not amount.is_finite():
        raise InvalidQuantity(_("%(name)s must be a finite number.") % said)
    if abs(amount) > MAX_QUANTITY:
        raise InvalidQuantity(
            _("%(name)s is larger than the largest quantity held (%(max)s).")
            % {**said, "max": say_quantity(MAX_QUANTITY)}
        )
    if amount != amount.quantize(_QUANTUM):
        raise InvalidQuantity(
            _("%(name)s has more than %(places)d decimal places.")
            % {**said, "places": QUANTITY_DECIMAL_PLACES}
        )
    if sign == 1 and amount <= 0:
        raise InvalidQuantity(_("%(name)s must be greater than zero.") % said)
    if sign == 0 and amount == 0:
        raise InvalidQuantity(_("%(name)s must not be zero.") % said)
    if sign is None and amount < 0:
        raise InvalidQuantity(_("%(name)s cannot be negative.") % said)
    return amount.quantize(_QUANTUM)


def check_unit(amount: Decimal, product: Product, *, name: str) -> None:
    """Countable products (pieces, boxes, packs) move only in whole numbers."""
    if product.is_countable and amount != amount.to_integral_value():
        raise InvalidQuantity(
            _("%(name)s for %(sku)s must be a whole number of %(unit)s.")
            % {"name": _(name), "sku": product.sku, "unit": product.get_unit_display()}
        )


def format_quantity(amount: Decimal) -> str:
    """A quantity as people write it: ``3`` rather than ``3.000``, ``2.5`` rather than ``2.500``."""
    return f"{amount.normalize():f}"


def show_quantity(amount: Decimal) -> str:
    """A quantity on a page, in the active language's number format, without trailing zeros:
    ``1,234.5`` in English, ``1.234,5`` in German. Not for form inputs (``type="number"``
    wants ``format_quantity``) nor the API (plain decimals). In templates, the ``quantity``
    filter (``{% load quantities %}``) does the same and can take the unit."""
    exponent = amount.normalize().as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    return number_format(amount, decimal_pos=places, use_l10n=True, force_grouping=True)


def say_quantity(amount: Decimal) -> str:
    """A quantity in a message, in the active language's decimal mark and without trailing
    zeros: ``2.5`` in English (as ``format_quantity``), ``2,5`` in German."""
    exponent = amount.normalize().as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    return number_format(amount, decimal_pos=places, use_l10n=True)
