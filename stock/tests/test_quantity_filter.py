"""Quantities on pages follow the reader's language; the API's stay plain decimals."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from stock.quantities import show_quantity
from stock.templatetags.quantities import quantity, signed_quantity


def render(source: str, **context) -> str:
    return Template("{% load quantities %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("language", "amount", "unit", "shown"),
    [
        ("en", "1234.500", "kg", "1,234.500"),
        ("de", "1234.500", "kg", "1.234,500"),
        ("de", "0.250", "l", "0,250"),
        ("en", "1234.000", "pcs", "1,234"),
        ("de", "1234.000", "pcs", "1.234"),
        ("de", "12.000", "box", "12"),
        ("de", "1234567.500", None, "1.234.567,5"),
        ("en", "3.000", None, "3"),
        ("de", "0.125", None, "0,125"),
    ],
)
def test_quantity_is_written_as_the_language_writes_numbers(language, amount, unit, shown):
    with translation.override(language):
        assert quantity(Decimal(amount), unit) == shown


def test_the_filter_is_used_in_templates_with_the_unit_as_argument():
    with translation.override("de"):
        shown = render(
            "{{ amount|quantity:unit }} / {{ delta|signed_quantity:unit }}",
            amount=Decimal("1234.5"),
            delta=Decimal("2.000"),
            unit="kg",
        )

    assert shown == "1.234,500 / +2,000"


def test_a_decrease_keeps_its_minus_and_zero_gets_no_sign():
    with translation.override("de"):
        assert signed_quantity(Decimal("-1500.000"), "pcs") == "-1.500"
        assert signed_quantity(Decimal("0.000"), "pcs") == "0"


def test_formatted_text_and_missing_values_are_taken_as_they_come():
    with translation.override("de"):
        assert quantity("2.5") == "2,5"
        assert quantity(None) == ""
        assert quantity("—") == "—"


@pytest.mark.parametrize(
    ("language", "shown"), [("en", "1,234.5"), ("de", "1.234,5")], ids=["en", "de"]
)
def test_views_show_quantities_trimmed_in_the_language_s_format(language, shown):
    with translation.override(language):
        assert show_quantity(Decimal("1234.500")) == shown
        assert show_quantity(Decimal("7.000")) == "7"
