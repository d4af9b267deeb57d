import uuid
from decimal import Decimal

import pytest

from accounts.tests.factories import AdminFactory
from branches.tests.factories import BranchFactory
from catalog import services
from catalog.errors import UnknownCategory, UnknownProduct
from catalog.models import Category, Product, Unit
from catalog.tests.factories import CategoryFactory, ProductFactory
from inventory_project.kernel.errors import Conflict, InvalidInput
from stock.services import receive_stock

pytestmark = pytest.mark.django_db


def with_stock_history(product: Product) -> Product:
    receive_stock(
        actor=AdminFactory(), branch_id=BranchFactory().pk, product_id=product.pk, quantity="1"
    )
    return product


# Categories -------------------------------------------------------------------------------


def test_a_category_is_created(actor):
    category = services.create_category(actor=actor, name="Dairy", description="Milk and cheese")

    category.refresh_from_db()
    assert (category.name, category.description) == ("Dairy", "Milk and cheese")


def test_a_used_category_name_is_refused_whatever_its_case(actor):
    CategoryFactory(name="Dairy")

    with pytest.raises(InvalidInput) as error:
        services.create_category(actor=actor, name="DAIRY")

    assert error.value.field == "name"
    assert error.value.message == "A category named DAIRY already exists."


def test_a_blank_category_name_is_refused(actor):
    with pytest.raises(InvalidInput) as error:
        services.create_category(actor=actor, name="")

    assert error.value.field == "name"


def test_a_category_is_renamed(actor):
    category = CategoryFactory(name="Dairy")

    services.update_category(actor=actor, category_id=category.pk, name="Dairy products")

    category.refresh_from_db()
    assert category.name == "Dairy products"


def test_renaming_a_category_to_a_used_name_is_refused(actor):
    CategoryFactory(name="Dairy")
    category = CategoryFactory(name="Bakery")

    with pytest.raises(InvalidInput) as error:
        services.update_category(actor=actor, category_id=category.pk, name="dairy")

    assert error.value.field == "name"


@pytest.mark.parametrize("category_id", [uuid.uuid4(), "nope"], ids=["unknown", "malformed"])
def test_changing_an_unknown_category_is_refused(category_id, actor):
    with pytest.raises(UnknownCategory):
        services.update_category(actor=actor, category_id=category_id, name="Anything")


def test_an_empty_category_is_deleted(actor):
    category = CategoryFactory()

    services.delete_category(actor=actor, category_id=category.pk)

    assert not Category.objects.filter(pk=category.pk).exists()


def test_a_category_with_products_is_not_deleted(actor):
    category = CategoryFactory(name="Dairy")
    ProductFactory.create_batch(2, category=category, is_active=False)

    with pytest.raises(Conflict) as error:
        services.delete_category(actor=actor, category_id=category.pk)

    assert error.value.message == (
        "Category Dairy still has 2 products; move them to another category first."
    )
    assert Category.objects.filter(pk=category.pk).exists()


# Products ---------------------------------------------------------------------------------


def test_a_product_is_created_with_defaults(actor):
    product = services.create_product(actor=actor, sku="MILK-1", name="Milk 1 l")

    product.refresh_from_db()
    assert product.barcode is None
    assert product.category is None
    assert product.unit == Unit.PIECE
    assert (product.cost_price, product.sale_price, product.low_stock_threshold) == (0, 0, 0)
    assert product.is_active


def test_a_product_is_created_with_everything(actor):
    category = CategoryFactory()

    product = services.create_product(
        actor=actor,
        sku="CHEESE-1",
        name="Gouda",
        barcode="4006381333931",
        category_id=category.pk,
        unit=Unit.KILOGRAM,
        cost_price=Decimal("7.50"),
        sale_price=Decimal("12.90"),
        low_stock_threshold=Decimal("2.5"),
        is_active=False,
    )

    product.refresh_from_db()
    assert product.category == category
    assert (product.barcode, product.unit, product.sale_price) == (
        "4006381333931",
        Unit.KILOGRAM,
        Decimal("12.90"),
    )
    assert product.low_stock_threshold == Decimal("2.5")
    assert not product.is_active


@pytest.mark.parametrize("barcode", ["", "   ", None])
def test_a_blank_barcode_means_none(barcode, actor):
    product = services.create_product(actor=actor, sku="MILK-1", name="Milk", barcode=barcode)

    product.refresh_from_db()
    assert product.barcode is None


def test_a_used_sku_is_refused_whatever_its_case(actor):
    ProductFactory(sku="MILK-1")

    with pytest.raises(InvalidInput) as error:
        services.create_product(actor=actor, sku="milk-1", name="Milk")

    assert error.value.field == "sku"
    assert error.value.message == "A product with the SKU milk-1 already exists."


def test_a_used_barcode_is_refused(actor):
    ProductFactory(barcode="4006381333931")

    with pytest.raises(InvalidInput) as error:
        services.create_product(actor=actor, sku="MILK-2", name="Milk", barcode="4006381333931")

    assert error.value.field == "barcode"


def test_a_sku_taken_between_the_check_and_the_save_is_still_named(monkeypatch, actor):
    ProductFactory(sku="MILK-1")
    validate = services._validate_product
    calls = []

    def looks_too_early(product):
        # The first look misses the other product, as if it were committed just after.
        calls.append(product)
        if len(calls) > 1:
            validate(product)

    monkeypatch.setattr(services, "_validate_product", looks_too_early)

    with pytest.raises(InvalidInput) as error:
        services.create_product(actor=actor, sku="MILK-1", name="Milk")

    assert error.value.field == "sku"
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("sku", {"sku": "MILK 1"}),
        ("barcode", {"barcode": "4006 3813"}),
        ("cost_price", {"cost_price": Decimal("-1")}),
        ("low_stock_threshold", {"low_stock_threshold": Decimal("-0.001")}),
        ("unit", {"unit": "crates"}),
    ],
)
def test_the_models_validators_are_applied_naming_the_field(field, changes, actor):
    with pytest.raises(InvalidInput) as error:
        services.create_product(actor=actor, **{"sku": "MILK-1", "name": "Milk", **changes})

    assert error.value.field == field
    assert not Product.objects.exists()


@pytest.mark.parametrize("category_id", [uuid.uuid4(), "nope"], ids=["unknown", "malformed"])
def test_an_unknown_category_is_refused_naming_the_field(category_id, actor):
    with pytest.raises(InvalidInput) as error:
        services.create_product(actor=actor, sku="MILK-1", name="Milk", category_id=category_id)

    assert error.value.field == "category"
    assert error.value.message == f"No category with id {category_id}."


def test_a_product_is_changed(actor):
    product = ProductFactory(barcode="4006381333931")
    category = CategoryFactory()

    services.update_product(
        actor=actor,
        product_id=product.pk,
        sku="NEW-1",
        barcode="",
        name="Renamed",
        category_id=category.pk,
        sale_price=Decimal("3.20"),
        is_active=False,
    )

    product.refresh_from_db()
    assert (product.sku, product.barcode, product.name, product.category) == (
        "NEW-1",
        None,
        "Renamed",
        category,
    )
    assert product.sale_price == Decimal("3.20")
    assert not product.is_active


def test_a_product_keeps_its_own_sku_and_barcode_on_change(actor):
    product = ProductFactory(sku="MILK-1", barcode="123")

    services.update_product(actor=actor, product_id=product.pk, sku="milk-1", barcode="123")

    product.refresh_from_db()
    assert product.sku == "milk-1"


def test_a_change_to_another_products_barcode_is_refused(actor):
    ProductFactory(barcode="123")
    product = ProductFactory(barcode="456")

    with pytest.raises(InvalidInput) as error:
        services.update_product(actor=actor, product_id=product.pk, barcode="123")

    assert error.value.field == "barcode"
    product.refresh_from_db()
    assert product.barcode == "456"


def test_the_unit_of_a_product_without_stock_history_changes(actor):
    product = ProductFactory(unit=Unit.PIECE)

    services.update_product(actor=actor, product_id=product.pk, unit=Unit.KILOGRAM)

    product.refresh_from_db()
    assert product.unit == Unit.KILOGRAM


def test_the_unit_of_a_product_with_stock_history_stays(actor):
    product = with_stock_history(ProductFactory(unit=Unit.PIECE, name="Milk"))

    with pytest.raises(Conflict) as error:
        services.update_product(
            actor=actor, product_id=product.pk, unit=Unit.KILOGRAM, name="Renamed"
        )

    assert error.value.field == "unit"
    product.refresh_from_db()
    assert (product.unit, product.name) == (Unit.PIECE, "Milk")


def test_only_the_editable_product_fields_can_be_changed(actor):
    product = ProductFactory()

    with pytest.raises(TypeError, match="cannot change category, created_at"):
        services.update_product(actor=actor, product_id=product.pk, created_at=None, category=None)


@pytest.mark.parametrize("product_id", [uuid.uuid4(), "nope"], ids=["unknown", "malformed"])
def test_changing_an_unknown_product_is_refused(product_id, actor):
    with pytest.raises(UnknownProduct):
        services.update_product(actor=actor, product_id=product_id, name="Anything")


def test_a_product_without_stock_history_is_deleted(actor):
    product = ProductFactory()

    services.delete_product(actor=actor, product_id=product.pk)

    assert not Product.objects.filter(pk=product.pk).exists()


def test_a_product_with_stock_history_is_not_deleted(actor):
    product = with_stock_history(ProductFactory(sku="MILK-1"))

    with pytest.raises(Conflict) as error:
        services.delete_product(actor=actor, product_id=product.pk)

    assert error.value.message == "Product MILK-1 has stock history; deactivate it instead."
    assert Product.objects.filter(pk=product.pk).exists()


def test_deleting_an_unknown_product_is_refused(actor):
    with pytest.raises(UnknownProduct):
        services.delete_product(actor=actor, product_id=uuid.uuid4())
