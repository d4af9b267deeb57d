"""Suppliers and what they sell, as catalog.services keeps them: only ADMINs change them,
and every rule refuses in words naming the field."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from catalog import services
from catalog.models import Supplier, SupplierProduct, Unit
from catalog.tests.factories import ProductFactory, SupplierFactory, SupplierProductFactory
from inventory_project.kernel.errors import InvalidInput, NotFound, NotPermitted

pytestmark = pytest.mark.django_db

NO_SUCH_ID = "00000000-0000-0000-0000-000000000000"


def refused_field(call, **arguments) -> str | None:
    with pytest.raises(InvalidInput) as refusal:
        call(**arguments)
    return refusal.value.field


# Suppliers ---------------------------------------------------------------------------------


def test_an_admin_adds_a_supplier_with_code_and_currency_in_capitals(actor):
    supplier = services.create_supplier(
        actor=actor, code=" acme ", name="Acme Tools", currency="usd", lead_time_days=10
    )

    supplier.refresh_from_db()
    assert (supplier.code, supplier.currency, supplier.lead_time_days) == ("ACME", "USD", 10)
    assert supplier.is_active


@pytest.mark.parametrize("role", [Role.MANAGER, Role.STAFF])
def test_no_one_but_an_admin_adds_a_supplier(role):
    user = MembershipFactory(role=role).user

    with pytest.raises(NotPermitted):
        services.create_supplier(actor=user, code="ACME", name="Acme")

    assert not Supplier.objects.exists()


def test_a_code_used_by_another_supplier_in_any_case_is_refused(actor):
    SupplierFactory(code="ACME")

    assert refused_field(services.create_supplier, actor=actor, code="acme", name="X") == "code"


def test_a_name_used_by_another_supplier_in_any_case_is_refused(actor):
    SupplierFactory(name="Acme Tools")

    field = refused_field(services.create_supplier, actor=actor, code="NEW", name="ACME tools")

    assert field == "name"


@pytest.mark.parametrize("currency", ["EURO", "E1", "€", ""])
def test_a_currency_that_is_not_three_letters_is_refused(actor, currency):
    field = refused_field(
        services.create_supplier, actor=actor, code="ACME", name="Acme", currency=currency
    )

    assert field == "currency"


@pytest.mark.parametrize("days", [-1, 366, 10**12, "1e999", "NaN", "seven", 2.5, None, True])
def test_a_lead_time_outside_0_to_365_whole_days_is_refused(actor, days):
    field = refused_field(
        services.create_supplier, actor=actor, code="ACME", name="Acme", lead_time_days=days
    )

    assert field == "lead_time_days"


@pytest.mark.parametrize("days", [0, 365])
def test_lead_times_of_0_and_365_days_are_taken(actor, days):
    supplier = services.create_supplier(actor=actor, code="A", name="A", lead_time_days=days)

    assert supplier.lead_time_days == days


@pytest.mark.parametrize(
    ("field", "value"),
    [("code", "AC ME"), ("email", "not-an-address"), ("name", ""), ("code", "X" * 17)],
)
def test_malformed_supplier_fields_are_refused_by_name(actor, field, value):
    arguments = {"code": "ACME", "name": "Acme", field: value}

    assert refused_field(services.create_supplier, actor=actor, **arguments) == field


@pytest.mark.parametrize("field", ["code", "name", "contact_name", "email", "phone", "currency"])
def test_text_with_a_null_character_is_refused_by_name(actor, field):
    arguments = {"code": "ACME", "name": "Acme", field: "a\x00b"}

    assert refused_field(services.create_supplier, actor=actor, **arguments) == field


@pytest.mark.parametrize("sku", ["a\x00b", 12])
def test_a_supplier_sku_that_is_not_plain_text_is_refused(actor, sku):
    supplier, product = SupplierFactory(), ProductFactory()

    field = refused_field(
        services.set_supplier_product,
        actor=actor,
        supplier_id=supplier.pk,
        product_id=product.pk,
        supplier_sku=sku,
    )

    assert field == "supplier_sku"


def test_an_admin_deactivates_and_reactivates_a_supplier(actor):
    supplier = SupplierFactory()

    services.update_supplier(actor=actor, supplier_id=supplier.pk, is_active=False)
    supplier.refresh_from_db()
    assert not supplier.is_active

    services.update_supplier(actor=actor, supplier_id=supplier.pk, is_active=True)
    supplier.refresh_from_db()
    assert supplier.is_active


def test_a_supplier_keeps_its_own_code_when_renamed(actor):
    supplier = SupplierFactory(code="ACME")

    services.update_supplier(actor=actor, supplier_id=supplier.pk, code="acme", name="Renamed")

    supplier.refresh_from_db()
    assert (supplier.code, supplier.name) == ("ACME", "Renamed")


def test_a_manager_cannot_change_a_supplier():
    supplier = SupplierFactory(name="Before")
    manager = MembershipFactory(role=Role.MANAGER).user

    with pytest.raises(NotPermitted):
        services.update_supplier(actor=manager, supplier_id=supplier.pk, name="After")

    supplier.refresh_from_db()
    assert supplier.name == "Before"


@pytest.mark.parametrize("supplier_id", [NO_SUCH_ID, "not-a-uuid", "", None, 12])
def test_changing_an_unknown_supplier_is_not_found(actor, supplier_id):
    with pytest.raises(NotFound):
        services.update_supplier(actor=actor, supplier_id=supplier_id, name="X")


def test_update_supplier_changes_no_field_it_does_not_know(actor):
    supplier = SupplierFactory()

    with pytest.raises(TypeError):
        services.update_supplier(actor=actor, supplier_id=supplier.pk, created_at=None)


# What a supplier sells -----------------------------------------------------------------------


def test_an_admin_sets_how_a_supplier_sells_a_product(actor):
    supplier, product = SupplierFactory(), ProductFactory()

    line = services.set_supplier_product(
        actor=actor,
        supplier_id=supplier.pk,
        product_id=product.pk,
        supplier_sku=" AC-1 ",
        pack_size="12",
        price="0.0375",
        minimum_order_quantity=24,
    )

    line.refresh_from_db()
    assert (line.supplier_sku, line.pack_size, line.price, line.minimum_order_quantity) == (
        "AC-1",
        Decimal("12"),
        Decimal("0.0375"),
        Decimal("24"),
    )


def test_setting_a_product_again_changes_the_line_there(actor):
    line = SupplierProductFactory(price=Decimal("1"))

    services.set_supplier_product(
        actor=actor, supplier_id=line.supplier_id, product_id=line.product_id, price="2.5"
    )

    assert SupplierProduct.objects.get().price == Decimal("2.5")


def test_a_preferred_line_takes_the_flag_from_the_other_supplier(actor):
    before = SupplierProductFactory(is_preferred=True)
    other = SupplierFactory()

    services.set_supplier_product(
        actor=actor, supplier_id=other.pk, product_id=before.product_id, is_preferred=True
    )

    preferred = SupplierProduct.objects.filter(product=before.product_id, is_preferred=True)
    assert [line.supplier_id for line in preferred] == [other.pk]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pack_size", 0),
        ("pack_size", "-1"),
        ("pack_size", "0.0001"),
        ("pack_size", "1e999"),
        ("pack_size", "NaN"),
        ("pack_size", "Infinity"),
        ("pack_size", "twelve"),
        ("pack_size", None),
        ("price", "-0.01"),
        ("price", "0.00001"),
        ("price", "1e999"),
        ("price", 10**12),
        ("price", 1.5),
        ("minimum_order_quantity", "-1"),
        ("minimum_order_quantity", "1e20"),
        ("minimum_order_quantity", []),
    ],
)
def test_bad_pack_sizes_prices_and_minimums_are_refused_by_name(actor, field, value):
    supplier, product = SupplierFactory(), ProductFactory(unit=Unit.KILOGRAM)

    found = refused_field(
        services.set_supplier_product,
        actor=actor,
        supplier_id=supplier.pk,
        product_id=product.pk,
        **{field: value},
    )

    assert found == field
    assert not SupplierProduct.objects.exists()


@pytest.mark.parametrize("field", ["pack_size", "minimum_order_quantity"])
def test_a_countable_product_takes_only_whole_packs_and_minimums(actor, field):
    supplier, product = SupplierFactory(), ProductFactory(unit=Unit.PIECE)

    with pytest.raises(InvalidInput) as refusal:
        services.set_supplier_product(
            actor=actor, supplier_id=supplier.pk, product_id=product.pk, **{field: "2.5"}
        )

    assert refusal.value.field == field
    assert "whole number" in refusal.value.message


def test_a_product_sold_by_weight_takes_a_fractional_pack(actor):
    supplier, product = SupplierFactory(), ProductFactory(unit=Unit.KILOGRAM)

    line = services.set_supplier_product(
        actor=actor, supplier_id=supplier.pk, product_id=product.pk, pack_size="2.5"
    )

    assert line.pack_size == Decimal("2.5")


def test_staff_cannot_set_what_a_supplier_sells():
    supplier, product = SupplierFactory(), ProductFactory()
    staff = MembershipFactory(role=Role.STAFF).user

    with pytest.raises(NotPermitted):
        services.set_supplier_product(actor=staff, supplier_id=supplier.pk, product_id=product.pk)


@pytest.mark.parametrize("product_id", [NO_SUCH_ID, "nope"])
def test_an_unknown_product_is_not_found(actor, product_id):
    supplier = SupplierFactory()

    with pytest.raises(NotFound):
        services.set_supplier_product(actor=actor, supplier_id=supplier.pk, product_id=product_id)


def test_an_admin_removes_a_product_from_a_supplier(actor):
    line = SupplierProductFactory()

    services.remove_supplier_product(
        actor=actor, supplier_id=line.supplier_id, product_id=line.product_id
    )

    assert not SupplierProduct.objects.exists()


def test_removing_a_product_the_supplier_does_not_sell_is_not_found(actor):
    supplier, product = SupplierFactory(), ProductFactory()

    with pytest.raises(NotFound):
        services.remove_supplier_product(
            actor=actor, supplier_id=supplier.pk, product_id=product.pk
        )


def test_a_manager_cannot_remove_a_product_from_a_supplier():
    line = SupplierProductFactory()
    manager = MembershipFactory(role=Role.MANAGER).user

    with pytest.raises(NotPermitted):
        services.remove_supplier_product(
            actor=manager, supplier_id=line.supplier_id, product_id=line.product_id
        )

    assert SupplierProduct.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_suppliers_made_preferred_at_once_leave_one_preferred(postgres, actor):
    product = ProductFactory()
    suppliers = [SupplierFactory(), SupplierFactory()]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def prefer(supplier):
        try:
            barrier.wait()
            services.set_supplier_product(
                actor=actor, supplier_id=supplier.pk, product_id=product.pk, is_preferred=True
            )
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=prefer, args=(s,)) for s in suppliers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert SupplierProduct.objects.filter(product=product).count() == 2
    assert SupplierProduct.objects.filter(product=product, is_preferred=True).count() == 1
