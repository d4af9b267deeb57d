"""Keyset: which orders it can seek, and cursors that give back exactly the values they
were made of."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db.models import F

from inventory_project.kernel.api import Cursor, InvalidCursor, Keyset
from stock.models import StockLevel, StockMovement


@pytest.mark.parametrize(
    "ordering",
    [
        ("product__name", "pk"),
        ("-on_hand", "pk"),
        ("-updated_at", "id"),
        ("product__name", "branch__code", "pk"),
        ("product__sku", "-pk", "on_hand"),  # what follows the primary key changes nothing
    ],
)
def test_an_order_of_non_null_columns_ending_in_the_primary_key_is_sought(ordering):
    assert Keyset.of(StockLevel.objects.order_by(*ordering)) is not None


@pytest.mark.parametrize(
    "ordering",
    [
        ("product__name",),  # ties have no order
        ("low_stock_threshold", "pk"),  # may be NULL
        ("product__category__name", "pk"),  # through a foreign key that may be NULL
        ("product", "pk"),  # the product's own ordering
        ("product__name__lower", "pk"),
        ("?",),
    ],
)
def test_other_orders_are_not(ordering):
    assert Keyset.of(StockLevel.objects.order_by(*ordering)) is None


def test_an_expression_order_is_not_sought():
    assert Keyset.of(StockLevel.objects.order_by(F("on_hand").desc(), "pk")) is None


def test_the_models_default_order_is_read_when_none_is_given():
    # The ledger's Meta orders by (-created_at, -version): no primary key, no keyset.
    assert Keyset.of(StockMovement.objects.all()) is None
    assert Keyset.of(StockMovement.objects.order_by("-created_at", "-id")).ordering == [
        "-created_at",
        "-id",
    ]


def test_a_cursor_gives_back_exactly_its_values():
    keyset = Keyset.of(StockLevel.objects.order_by("-updated_at", "on_hand", "pk"))
    moment = datetime.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=datetime.UTC)
    values = (moment, Decimal("12.500"), uuid.uuid4())
    cursor = Cursor(values, before=True, position=150, count=1000, count_is_estimate=True)

    text = keyset.encode(cursor)

    assert keyset.decode(text) == cursor
    assert str(keyset.decode(text).values[1]) == "12.500"
    assert text.replace("-", "").replace("_", "").replace(".", "").isalnum()  # URL-safe


def test_a_cursor_of_one_order_is_refused_by_another():
    by_sku = Keyset.of(StockLevel.objects.order_by("product__sku", "pk"))
    by_name = Keyset.of(StockLevel.objects.order_by("product__name", "pk"))
    text = by_sku.encode(Cursor(("SKU-1", uuid.uuid4())))

    with pytest.raises(InvalidCursor) as refused:
        by_name.decode(text)

    assert refused.value.field == "cursor"
