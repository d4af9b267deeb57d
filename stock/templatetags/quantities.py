"""Quantities on pages, written as the reader's language writes numbers.

``{% load quantities %}``, then:

- ``{{ level.on_hand|quantity:product.unit }}``: countable units (pieces, boxes, packs) as
  whole numbers, every other unit with its three decimal places: ``1,234.500 kg`` in
  English, ``1.234,500 kg`` in German;
- ``{{ amount|quantity }}`` without a unit: trailing zeros dropped, as
  ``stock.quantities.format_quantity`` writes it (``2.5``, German ``2,5``), with grouping;
- ``{{ movement.delta|signed_quantity:product.unit }}``: the same with ``+`` before an
  increase, for the ledger's changes.

A ``Decimal``, an ``int`` or a string such as ``format_quantity``'s answer is accepted;
``None`` and text that is no number come back unchanged (``None`` as empty). Only pages use
this: the API keeps writing quantities as plain decimal strings (``"12.500"``).
"""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

from catalog.models import QUANTITY_DECIMAL_PLACES, Unit

register = template.Library()


def _decimal_places(amount: Decimal, unit: str | None) -> int:
    if unit:
        try:
            countable = Unit(unit).is_countable
        except ValueError:
            countable = False
        if countable and amount == amount.to_integral_value():
            return 0
        return QUANTITY_DECIMAL_PLACES
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _format(value: object, unit: str | None, *, signed: bool) -> str:
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        return str(value)
    if not amount.is_finite():
        return str(value)
    text = number_format(
        amount,
        decimal_pos=_decimal_places(amount, unit),
        use_l10n=True,
        force_grouping=True,
    )
    return f"+{text}" if signed and amount > 0 else text


@register.filter
def quantity(value: object, unit: str | None = None) -> str:
    """A quantity in the active language's number format (see the module's description)."""
    return _format(value, unit, signed=False)


@register.filter
def signed_quantity(value: object, unit: str | None = None) -> str:
    """A change of quantity, ``+`` before an increase (see the module's description)."""
    return _format(value, unit, signed=True)
