"""Products files: every row checked against the catalog (catalog.imports.check_products),
and import_catalog, which writes them all or nothing."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from catalog.imports import check_products
from catalog.models import Category, Product, Unit
from catalog.services import ImportedProduct, import_catalog
from catalog.tests.factories import CategoryFactory, ProductFactory
from inventory_project.kernel.errors import Conflict, InvalidInput, NotPermitted

pytestmark = pytest.mark.django_db


def rows(*cells: dict[str, str]) -> list[tuple[int, dict[str, str]]]:
    return [(number, row) for number, row in enumerate(cells, start=2)]


def errors(report) -> list[tuple[int, str, str]]:
    return [(e["row"], e["column"], e["message"]) for e in report.errors]


@pytest.fixture
def drinks():
    return CategoryFactory(name="Drinks")


@pytest.fixture
def cola(drinks):
    return ProductFactory(
        sku="COLA-1",
        name="Cola",
        category=drinks,
        unit=Unit.PIECE,
        cost_price=Decimal("0.50"),
        sale_price=Decimal("0.90"),
        barcode="4000000000001",
        low_stock_threshold=Decimal("10"),
    )


def same_as(product: Product) -> dict[str, str]:
    return {
        "sku": product.sku,
        "name": product.name,
        "category": product.category.name,
        "unit": product.unit,
        "cost_price": str(product.cost_price),
        "sale_price": str(product.sale_price),
        "barcode": product.barcode or "",
        "low_stock_threshold": str(product.low_stock_threshold),
    }


# Checking -----------------------------------------------------------------------------------


def test_rows_equal_to_the_catalog_are_unchanged_and_keep_nothing_to_write(cola):
    report = check_products(rows(same_as(cola)), create_categories=False)
    assert report.summary()["unchanged"] == 1
    assert report.kept == []


def test_a_row_in_other_case_and_formatting_is_the_same_product_unchanged(cola):
    row = {**same_as(cola), "sku": "cola-1", "unit": "PIECES", "cost_price": "0,5"}
    report = check_products(rows(row), create_categories=False)
    assert report.error_count == 0
    assert report.summary()["unchanged"] == 1


def test_a_changed_price_is_a_change_listed_before_and_after(cola):
    report = check_products(rows({**same_as(cola), "sale_price": "0.99"}), create_categories=False)
    assert report.summary()["changed"] == 1
    assert report.sample[0]["changes"] == [
        {"field": "sale_price", "before": "0.90", "after": "0.99"}
    ]


def test_every_bad_cell_is_an_error_by_row_and_column(cola, drinks):
    report = check_products(
        rows(
            {"sku": "", "name": "No SKU"},
            {"sku": "BAD SKU", "name": "Spaces"},
            {"sku": "A-1", "name": ""},
            {"sku": "A-2", "name": "x" * 201},
            {"sku": "A-3", "name": "Unknown category", "category": "Nowhere"},
            {"sku": "A-4", "name": "Bad unit", "unit": "bushel"},
            {"sku": "A-5", "name": "Negative", "cost_price": "-1"},
            {"sku": "A-6", "name": "Not a number", "sale_price": "cheap"},
            {"sku": "A-7", "name": "Too precise", "sale_price": "1.234"},
            {"sku": "A-8", "name": "Taken barcode", "barcode": "4000000000001"},
            {"sku": "a-8", "name": "Same SKU"},
            {"sku": "A-9", "name": "Spaced barcode", "barcode": "12 34"},
            {"sku": "A-10", "name": "Threshold", "low_stock_threshold": "-2"},
        ),
        create_categories=False,
    )
    assert [(row, column) for row, column, _message in errors(report)] == [
        (2, "sku"),
        (3, "sku"),
        (4, "name"),
        (5, "name"),
        (6, "category"),
        (7, "unit"),
        (8, "cost_price"),
        (9, "sale_price"),
        (10, "sale_price"),
        (11, "barcode"),
        (12, "sku"),
        (13, "barcode"),
        (14, "low_stock_threshold"),
    ]
    messages = dict(((row, column), message) for row, column, message in errors(report))
    assert messages[(6, "category")].startswith("No category named Nowhere.")
    assert messages[(11, "barcode")] == "Product COLA-1 already has the barcode 4000000000001."
    assert messages[(12, "sku")] == "SKU a-8 is also on row 11."
    assert report.kept == []


def test_numbers_too_large_to_hold_are_errors_not_crashes(db):
    report = check_products(
        rows({"sku": "A", "name": "A", "cost_price": "1e999", "low_stock_threshold": "9e99"}),
        create_categories=False,
    )
    assert [(column, message[:11]) for _row, column, message in errors(report)] == [
        ("cost_price", "Larger than"),
        ("low_stock_threshold", "Larger than"),
    ]


def test_a_barcode_twice_in_the_file_is_an_error_on_the_second_row(db):
    report = check_products(
        rows(
            {"sku": "A", "name": "A", "barcode": "111"}, {"sku": "B", "name": "B", "barcode": "111"}
        ),
        create_categories=False,
    )
    assert errors(report) == [(3, "barcode", "Barcode 111 is also on row 2.")]


def test_missing_categories_are_created_when_asked_and_listed(db):
    report = check_products(
        rows(
            {"sku": "A", "name": "A", "category": "Bakery"},
            {"sku": "B", "name": "B", "category": "bakery"},
        ),
        create_categories=True,
    )
    assert report.error_count == 0
    assert report.summary()["new_categories"] == ["Bakery"]


def test_a_unit_change_of_a_product_with_stock_is_an_error(cola, branch, actor):
    from stock.services import receive_stock

    receive_stock(actor=actor, branch_id=branch.pk, product_id=cola.pk, quantity=1)
    report = check_products(rows({**same_as(cola), "unit": "kg"}), create_categories=False)
    assert errors(report)[0][:2] == (2, "unit")
    assert "has stock history" in errors(report)[0][2]


def test_checking_reads_two_queries_whatever_the_length(db):
    def queries(size: int) -> int:
        ProductFactory.create_batch(size)
        cells = rows(*({"sku": f"N-{size}-{n}", "name": "New"} for n in range(size)))
        with CaptureQueriesContext(connection) as captured:
            check_products(cells, create_categories=False)
        return len(captured)

    assert queries(3) == queries(80) == 2


# Writing ------------------------------------------------------------------------------------


def test_import_catalog_adds_categories_and_products_and_changes_others(actor, cola):
    result = import_catalog(
        actor=actor,
        categories=["Bakery"],
        products=[
            ImportedProduct(
                2, "BAK-1", {"name": "Loaf", "category": "Bakery", "sale_price": "3.49"}
            ),
            ImportedProduct(3, "cola-1", {"sale_price": "0.99", "category": "Bakery"}),
        ],
    )
    assert (result.created_categories, result.created_products, result.updated_products) == (
        1,
        1,
        1,
    )
    loaf = Product.objects.get(sku="BAK-1")
    assert (loaf.category.name, loaf.sale_price, loaf.unit) == ("Bakery", Decimal("3.49"), "pcs")
    cola.refresh_from_db()
    assert (cola.sale_price, cola.category.name, cola.sku) == (Decimal("0.99"), "Bakery", "COLA-1")


def test_import_catalog_writes_nothing_when_a_row_breaks_a_rule(actor, cola):
    with pytest.raises(InvalidInput, match=r"^Row 3: ") as refused:
        import_catalog(
            actor=actor,
            categories=["Bakery"],
            products=[
                ImportedProduct(2, "NEW-1", {"name": "Fine"}),
                ImportedProduct(3, "NEW-2", {"name": "Bad", "unit": "bushel"}),
            ],
        )
    assert refused.value.field == "rows.3.unit"
    assert not Product.objects.filter(sku__startswith="NEW").exists()
    assert not Category.objects.filter(name="Bakery").exists()


def test_import_catalog_refuses_a_barcode_another_product_holds(actor, cola):
    with pytest.raises(InvalidInput, match="already has the barcode"):
        import_catalog(
            actor=actor,
            categories=[],
            products=[ImportedProduct(2, "NEW-1", {"name": "X", "barcode": cola.barcode})],
        )


def test_import_catalog_refuses_a_category_not_asked_for(actor):
    with pytest.raises(InvalidInput, match="no category named Nowhere"):
        import_catalog(
            actor=actor,
            categories=[],
            products=[ImportedProduct(2, "NEW-1", {"name": "X", "category": "Nowhere"})],
        )


def test_import_catalog_refuses_a_unit_change_of_a_product_with_stock(actor, cola, branch):
    from stock.services import receive_stock

    receive_stock(actor=actor, branch_id=branch.pk, product_id=cola.pk, quantity=1)
    with pytest.raises(Conflict, match="has stock history"):
        import_catalog(
            actor=actor, categories=[], products=[ImportedProduct(2, "COLA-1", {"unit": "kg"})]
        )


def test_import_catalog_of_unchanged_rows_writes_nothing(actor, cola):
    before = Product.objects.get(pk=cola.pk).updated_at
    result = import_catalog(
        actor=actor, categories=[], products=[ImportedProduct(2, "COLA-1", {"name": "Cola"})]
    )
    assert result.unchanged_products == 1
    assert Product.objects.get(pk=cola.pk).updated_at == before


def test_only_an_admin_imports_the_catalog(db):
    with pytest.raises(NotPermitted):
        import_catalog(actor=UserFactory(), categories=[], products=[])


def test_a_sku_twice_is_refused(actor):
    with pytest.raises(InvalidInput, match="also on row 2"):
        import_catalog(
            actor=actor,
            categories=[],
            products=[
                ImportedProduct(2, "A", {"name": "A"}),
                ImportedProduct(3, "a", {"name": "B"}),
            ],
        )
