"""The supplier pages: who sees them, ADMINs' forms through the services keeping what was
typed when refused, and a constant number of queries however many rows."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from catalog.models import Supplier, SupplierProduct, Unit
from catalog.tests.factories import ProductFactory, SupplierFactory, SupplierProductFactory
from inventory_project.kernel.models import IdempotentRequest
from inventory_project.tests.helpers import page_client

pytestmark = pytest.mark.django_db

LIST = reverse("suppliers")
NEW = reverse("supplier-new")


@pytest.fixture
def admin():
    return AdminFactory()


@pytest.fixture
def manager():
    return MembershipFactory(role=Role.MANAGER).user


@pytest.fixture
def staff():
    return MembershipFactory(role=Role.STAFF).user


def supplier_form(**changes) -> dict:
    return {
        "once": "k" + str(len(changes)) + "".join(map(str, changes.values()))[:40],
        "code": "ACME",
        "name": "Acme Tools",
        "contact_name": "Dana",
        "email": "orders@acme.example",
        "phone": "",
        "lead_time_days": "5",
        "currency": "EUR",
        "is_active": "on",
        **changes,
    }


def line_form(sold, **changes) -> dict:
    return {
        "once": "line-" + str(sold.pk) + "".join(map(str, changes.values()))[:20],
        "product": sold.sku,
        "supplier_sku": "AC-1",
        "pack_size": "6",
        "price": "0.0375",
        "minimum_order_quantity": "12",
        **changes,
    }


# Reading ------------------------------------------------------------------------------------


def test_a_manager_sees_suppliers_read_only(manager):
    line = SupplierProductFactory(supplier__name="Acme Tools", supplier_sku="AC-77")
    client = page_client(manager)

    listed = client.get(LIST)
    detail = client.get(reverse("supplier", args=[line.supplier_id]))

    assertContains(listed, "Acme Tools")
    assertNotContains(listed, NEW)
    assertContains(detail, "AC-77")
    assertNotContains(detail, 'id="line-form"')
    assertNotContains(detail, reverse("supplier-edit", args=[line.supplier_id]))


def test_an_admin_sees_the_forms_to_change_a_supplier(admin):
    supplier = SupplierFactory()

    detail = page_client(admin).get(reverse("supplier", args=[supplier.pk]))

    assertContains(detail, 'id="line-form"')
    assertContains(detail, reverse("supplier-edit", args=[supplier.pk]))


def test_staff_are_refused_suppliers_in_words(staff):
    supplier = SupplierFactory()
    client = page_client(staff)

    for url in (LIST, reverse("supplier", args=[supplier.pk])):
        response = client.get(url)
        assertContains(response, "see suppliers", status_code=403)


def test_anonymous_visitors_are_sent_to_sign_in():
    response = Client().get(LIST)

    assert response.status_code == 302
    assert "/account/sign-in/" in response["Location"]


def test_an_unknown_supplier_is_not_found(manager):
    response = page_client(manager).get(LIST + "00000000-0000-0000-0000-000000000000/")

    assert response.status_code == 404


def test_the_list_filters_by_search_and_activity_in_the_address(manager):
    SupplierFactory(name="Acme Tools")
    SupplierFactory(name="Bolt House", is_active=False)
    client = page_client(manager)

    searched = client.get(LIST, {"q": "acme"})
    inactive = client.get(LIST, {"active": "inactive"})

    assertContains(searched, "Acme Tools")
    assertNotContains(searched, "Bolt House")
    assertContains(inactive, "Bolt House")
    assertNotContains(inactive, "Acme Tools")


def test_an_htmx_request_gets_only_the_results(manager):
    SupplierFactory(name="Acme Tools")

    response = page_client(manager).get(LIST, {"q": "acme"}, headers={"HX-Request": "true"})

    assertContains(response, 'id="supplier-results"')
    assertNotContains(response, "<html")


@pytest.mark.parametrize("params", [{"page": "-1"}, {"page": "1e999"}, {"active": "maybe"}])
def test_malformed_filters_show_the_list_rather_than_fail(manager, params):
    SupplierFactory(name="Acme Tools")

    response = page_client(manager).get(LIST, params)

    assertContains(response, "Acme Tools")


def test_the_list_pages_by_fifty(manager):
    for index in range(51):
        SupplierFactory(name=f"Supplier {index:03d}")
    client = page_client(manager)

    first = client.get(LIST)
    second = client.get(LIST, {"page": 2})

    assertContains(first, "page=2")
    assertContains(second, "Supplier 050")
    assertNotContains(second, "Supplier 000")


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_list_costs_the_same_queries_for_1_and_10_suppliers(manager):
    client = page_client(manager)
    SupplierFactory()
    one = queries(client, LIST)
    for _ in range(9):
        SupplierFactory()

    assert queries(client, LIST) == one


def test_a_supplier_page_costs_the_same_queries_for_1_and_10_products(admin):
    supplier = SupplierFactory()
    url = reverse("supplier", args=[supplier.pk])
    client = page_client(admin)
    SupplierProductFactory(supplier=supplier)
    one = queries(client, url)
    for _ in range(9):
        SupplierProductFactory(supplier=supplier)

    assert queries(client, url) == one


# Adding and changing suppliers --------------------------------------------------------------


def test_an_admin_adds_a_supplier(admin):
    response = page_client(admin).post(NEW, supplier_form(code="acme"))

    supplier = Supplier.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("supplier", args=[supplier.pk])
    assert (supplier.code, supplier.lead_time_days) == ("ACME", 5)


def test_the_same_form_posted_twice_adds_one_supplier(admin):
    client = page_client(admin)
    form = supplier_form()

    client.post(NEW, form)
    again = client.post(NEW, form)

    assert again.status_code == 302
    assert Supplier.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"currency": "E1"}, "ISO 4217"),
        ({"lead_time_days": "400"}, "365"),
        ({"lead_time_days": "1e999"}, "whole number"),
        ({"email": "nope"}, "valid email address"),
    ],
)
def test_a_refused_supplier_is_shown_again_as_typed(admin, changes, message):
    response = page_client(admin).post(NEW, supplier_form(name="Typed Name", **changes))

    assert response.status_code == 400
    assertContains(response, message, status_code=400)
    assertContains(response, 'value="Typed Name"', status_code=400)
    assert not Supplier.objects.exists()


def test_a_duplicate_name_is_said_beside_the_name(admin):
    SupplierFactory(name="Acme Tools")

    response = page_client(admin).post(NEW, supplier_form(name="ACME TOOLS"))

    assertContains(response, "already exists", status_code=400)
    assert response.context["form"].errors["name"]


@pytest.mark.parametrize("who", ["manager", "staff"])
def test_only_an_admin_adds_or_edits_a_supplier(request, who):
    supplier = SupplierFactory(name="Before")
    client = page_client(request.getfixturevalue(who))

    new = client.get(NEW)
    posted = client.post(NEW, supplier_form())
    edited = client.post(reverse("supplier-edit", args=[supplier.pk]), supplier_form())

    assert new.status_code == posted.status_code == edited.status_code == 403
    assertContains(posted, "administrator", status_code=403)
    supplier.refresh_from_db()
    assert supplier.name == "Before"
    assert Supplier.objects.count() == 1


def test_an_admin_deactivates_a_supplier(admin):
    supplier = SupplierFactory(code="ACME", name="Acme Tools")
    form = supplier_form()
    del form["is_active"]

    response = page_client(admin).post(reverse("supplier-edit", args=[supplier.pk]), form)

    assert response.status_code == 302
    supplier.refresh_from_db()
    assert not supplier.is_active


# What a supplier sells ----------------------------------------------------------------------


def test_an_admin_adds_a_product_by_its_barcode(admin):
    supplier, product = SupplierFactory(), ProductFactory(barcode="4006381333931")

    response = page_client(admin).post(
        reverse("supplier-product-set", args=[supplier.pk]),
        line_form(product, product="4006381333931"),
    )

    assert response.status_code == 302
    line = SupplierProduct.objects.get()
    assert (line.product_id, line.pack_size, line.price) == (
        product.pk,
        Decimal("6"),
        Decimal("0.0375"),
    )


def test_the_change_link_fills_the_form_with_the_line(admin):
    line = SupplierProductFactory(supplier_sku="AC-77", pack_size=Decimal("12"))

    response = page_client(admin).get(
        reverse("supplier", args=[line.supplier_id]), {"product": line.product.sku}
    )

    assert response.context["line_form"].initial["supplier_sku"] == "AC-77"
    assert response.context["line_form"].initial["pack_size"] == "12"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pack_size": "2.5"}, "pack_size"),
        ({"pack_size": "0"}, "pack_size"),
        ({"pack_size": "NaN"}, "pack_size"),
        ({"price": "-1"}, "price"),
        ({"price": "1e999"}, "price"),
        ({"minimum_order_quantity": "-2"}, "minimum_order_quantity"),
        ({"product": "NO-SUCH-SKU"}, "product"),
    ],
)
def test_a_refused_product_line_keeps_what_was_typed(admin, changes, field):
    supplier, product = SupplierFactory(), ProductFactory(unit=Unit.PIECE)

    response = page_client(admin).post(
        reverse("supplier-product-set", args=[supplier.pk]),
        line_form(product, supplier_sku="TYPED-9", **changes),
    )

    assert response.status_code == 400
    assert response.context["line_form"].errors[field]
    assertContains(response, 'value="TYPED-9"', status_code=400)
    assert not SupplierProduct.objects.exists()


def test_a_manager_cannot_set_or_remove_a_product_line(manager):
    line = SupplierProductFactory(price=Decimal("1"))
    client = page_client(manager)

    posted = client.post(
        reverse("supplier-product-set", args=[line.supplier_id]),
        line_form(line.product, price="9"),
    )
    removed = client.post(
        reverse("supplier-product-remove", args=[line.supplier_id, line.product_id]),
        {"once": "remove-1"},
    )

    assert posted.status_code == removed.status_code == 403
    line.refresh_from_db()
    assert line.price == Decimal("1")


def test_an_admin_removes_a_product_once_however_often_posted(admin):
    line = SupplierProductFactory()
    url = reverse("supplier-product-remove", args=[line.supplier_id, line.product_id])
    client = page_client(admin)

    first = client.post(url, {"once": "remove-1"})
    again = client.post(url, {"once": "remove-1"})

    assert first.status_code == again.status_code == 302
    assert not SupplierProduct.objects.exists()
    assert IdempotentRequest.objects.count() == 1


def test_removing_a_product_the_supplier_does_not_sell_is_not_found(admin):
    supplier, product = SupplierFactory(), ProductFactory()
    url = reverse("supplier-product-remove", args=[supplier.pk, product.pk])

    assert page_client(admin).post(url, {"once": "remove-2"}).status_code == 404
