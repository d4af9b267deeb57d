from decimal import Decimal

import pytest

from stock.quantities import format_quantity, parse_quantity


@pytest.mark.parametrize(
    ("amount", "shown"),
    [("3.000", "3"), ("2.500", "2.5"), ("100.000", "100"), ("0.000", "0"), ("0.125", "0.125")],
)
def test_format_quantity_drops_trailing_zeros(amount, shown):
    assert format_quantity(Decimal(amount)) == shown


def test_parse_quantity_accepts_surrounding_spaces():
    assert parse_quantity(" 4.5 ", name="Quantity", sign=1) == Decimal("4.5")
