from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from catalog.models import Category, Product, Unit
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_skus_are_unique():
    ProductFactory(sku="ABC-1")

    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(sku="ABC-1")


def test_skus_are_unique_whatever_their_case():
    ProductFactory(sku="ABC-1")

    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(sku="abc-1")


def test_barcodes_are_unique_when_given():
    ProductFactory(barcode="4006381333931")

    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(barcode="4006381333931")


def test_many_products_may_have_no_barcode():
    ProductFactory(barcode=None)
    ProductFactory(barcode=None)

    assert Product.objects.filter(barcode__isnull=True).count() == 2


def test_category_names_are_unique_ignoring_case():
    Category.objects.create(name="Dairy")

    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.create(name="dairy")


def test_the_database_refuses_negative_prices():
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(sale_price=Decimal("-1"))


def test_the_database_refuses_a_negative_default_threshold():
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(low_stock_threshold=Decimal("-1"))


@pytest.mark.parametrize("sku", ["has space", "-leading", "ünïcode", ""])
def test_sku_validation_refuses_awkward_codes(sku):
    product = ProductFactory.build(sku=sku, category=None)

    with pytest.raises(ValidationError) as error:
        product.full_clean()

    assert "sku" in error.value.message_dict


def test_an_empty_barcode_in_a_form_is_stored_as_none():
    field = Product._meta.get_field("barcode").formfield()

    assert field.clean("") is None


@pytest.mark.parametrize(
    ("unit", "countable"),
    [(Unit.PIECE, True), (Unit.BOX, True), (Unit.KILOGRAM, False), (Unit.METRE, False)],
)
def test_only_pieces_boxes_and_packs_are_countable(unit, countable):
    assert ProductFactory.build(unit=unit).is_countable is countable


@pytest.mark.parametrize("column", ["name", "sku", "barcode"])
def test_partial_search_is_served_by_a_trigram_index(postgres, column):
    # Unordered: the name index would otherwise win by giving the default order for free.
    search = Product.objects.filter(**{f"{column}__icontains": "wid"}).order_by()
    with connection.cursor() as cursor:
        # Empty test tables make a sequential scan cheapest; ask what else the planner has.
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = search.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert f"product_{column}_trgm_idx" in plan
