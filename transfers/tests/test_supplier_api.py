"""The supplier API: who reads, who writes, bad input answered 4xx with the error body,
retries with an Idempotency-Key applied once, and lists at a constant number of queries."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from catalog.models import Supplier, SupplierProduct, Unit
from catalog.tests.factories import ProductFactory, SupplierFactory, SupplierProductFactory
from inventory_project.tests.helpers import api_client

pytestmark = pytest.mark.django_db

NO_SUCH_ID = "00000000-0000-0000-0000-000000000000"
LIST = reverse("api-suppliers")


@pytest.fixture
def admin():
    return AdminFactory()


@pytest.fixture
def manager():
    return MembershipFactory(role=Role.MANAGER).user


@pytest.fixture
def staff():
    return MembershipFactory(role=Role.STAFF).user


def detail(supplier) -> str:
    return reverse("api-supplier", args=[supplier if isinstance(supplier, str) else supplier.pk])


def products(supplier) -> str:
    return reverse("api-supplier-products", args=[supplier.pk])


def error_body(response) -> dict:
    body = response.json()
    assert set(body) == {"code", "message", "fields"}, body
    return body


# Reading -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "manager"])
def test_admins_and_managers_read_suppliers(request, who):
    supplier = SupplierFactory(name="Acme")
    SupplierProductFactory(supplier=supplier)
    client = api_client(request.getfixturevalue(who))

    listed = client.get(LIST).json()["results"]
    one = client.get(detail(supplier)).json()
    sold = client.get(products(supplier)).json()["results"]

    assert [row["code"] for row in listed] == [supplier.code]
    assert (one["name"], one["product_count"]) == ("Acme", 1)
    assert len(sold) == 1


def test_staff_are_refused_suppliers_with_the_error_body(staff):
    supplier = SupplierFactory()
    client = api_client(staff)

    for url in (LIST, detail(supplier), products(supplier)):
        response = client.get(url)
        assert response.status_code == 403
        assert error_body(response)["code"] == "not_permitted"


def test_anonymous_callers_are_asked_for_credentials():
    response = api_client().get(LIST)

    assert response.status_code in (401, 403)
    assert error_body(response)["code"] in ("not_authenticated", "authentication_failed")


@pytest.mark.parametrize("supplier_id", [NO_SUCH_ID, "not-a-uuid", "1e999", "-1"])
def test_an_unknown_supplier_answers_404_in_json(manager, supplier_id):
    client = api_client(manager)

    response = client.get(detail(supplier_id))
    listed = client.get(reverse("api-supplier-products", args=[supplier_id]))

    assert response.status_code == listed.status_code == 404
    assert error_body(response)["code"] == "unknown_supplier"


def test_the_list_searches_and_filters_by_activity(manager):
    SupplierFactory(name="Acme Tools", code="ACME")
    SupplierFactory(name="Bolt House", code="BOLT", is_active=False)
    client = api_client(manager)

    found = client.get(LIST, {"q": "acme"}).json()["results"]
    inactive = client.get(LIST, {"is_active": "false"}).json()["results"]

    assert [row["code"] for row in found] == ["ACME"]
    assert [row["code"] for row in inactive] == ["BOLT"]


@pytest.mark.parametrize("params", [{"is_active": "maybe"}, {"q": "x" * 101}, {"cursor": "zz"}])
def test_malformed_list_filters_answer_400(manager, params):
    response = api_client(manager).get(LIST, params)

    assert response.status_code == 400
    error_body(response)


def test_the_list_pages_by_cursor(manager):
    for _ in range(3):
        SupplierFactory()
    client = api_client(manager)

    first = client.get(LIST, {"limit": 2}).json()
    second = client.get(first["next"]).json()

    assert "cursor=" in first["next"]
    assert len(first["results"]) == 2
    assert len(second["results"]) == 1
    assert first["count"] == 3


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_list_costs_the_same_queries_for_1_and_10_suppliers(manager):
    client = api_client(manager)
    SupplierProductFactory()
    one = count_queries(client, LIST)
    for _ in range(9):
        SupplierProductFactory()

    assert count_queries(client, LIST) == one


def test_the_products_list_costs_the_same_queries_for_1_and_10_products(manager):
    supplier = SupplierFactory()
    client = api_client(manager)
    SupplierProductFactory(supplier=supplier)
    one = count_queries(client, products(supplier))
    for _ in range(9):
        SupplierProductFactory(supplier=supplier)

    assert count_queries(client, products(supplier)) == one


# Writing -------------------------------------------------------------------------------------


def test_an_admin_adds_a_supplier(admin):
    response = api_client(admin).post(
        LIST,
        {"code": "acme", "name": "Acme", "email": "o@acme.example", "lead_time_days": 3},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["code"] == "ACME"
    assert Supplier.objects.get().lead_time_days == 3


@pytest.mark.parametrize("who", ["manager", "staff"])
def test_only_an_admin_adds_a_supplier(request, who):
    client = api_client(request.getfixturevalue(who))

    response = client.post(LIST, {"code": "ACME", "name": "Acme"}, format="json")

    assert response.status_code == 403
    assert error_body(response)["code"] == "not_permitted"
    assert not Supplier.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "ACME", "name": "Acme", "lead_time_days": 366}, "lead_time_days"),
        ({"code": "ACME", "name": "Acme", "lead_time_days": "1e999"}, "lead_time_days"),
        ({"code": "ACME", "name": "Acme", "lead_time_days": -1}, "lead_time_days"),
        ({"code": "ACME", "name": "Acme", "currency": "EURO"}, "currency"),
        ({"code": "ACME", "name": "Acme", "currency": "E1"}, "currency"),
        ({"code": "ACME", "name": "Acme", "email": "nope"}, "email"),
        ({"code": "AC ME", "name": "Acme"}, "code"),
        ({"code": "ACME"}, "name"),
        ({"code": "ACME", "name": "Acme", "balance": 1}, "balance"),
        ({"code": ["ACME"], "name": "Acme"}, "code"),
        ({"code": "ACME", "name": "Acme", "is_active": "perhaps"}, "is_active"),
    ],
)
def test_bad_supplier_input_answers_400_naming_the_field(admin, body, field):
    response = api_client(admin).post(LIST, body, format="json")

    assert response.status_code == 400
    assert field in error_body(response)["fields"]
    assert not Supplier.objects.exists()


def test_a_duplicate_code_in_another_case_answers_400_on_code(admin):
    SupplierFactory(code="ACME")

    response = api_client(admin).post(LIST, {"code": "acme", "name": "New"}, format="json")

    assert response.status_code == 400
    assert "code" in error_body(response)["fields"]


def test_a_repeated_add_with_one_idempotency_key_adds_one_supplier(admin):
    client = api_client(admin)
    body = {"code": "ACME", "name": "Acme"}

    first = client.post(LIST, body, format="json", headers={"Idempotency-Key": "k-1"})
    again = client.post(LIST, body, format="json", headers={"Idempotency-Key": "k-1"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Supplier.objects.count() == 1


def test_an_admin_deactivates_a_supplier(admin):
    supplier = SupplierFactory()

    response = api_client(admin).patch(detail(supplier), {"is_active": False}, format="json")

    assert response.status_code == 200
    assert response.json()["is_active"] is False


def test_a_manager_cannot_change_a_supplier(manager):
    supplier = SupplierFactory(name="Before")

    response = api_client(manager).patch(detail(supplier), {"name": "After"}, format="json")

    assert response.status_code == 403
    supplier.refresh_from_db()
    assert supplier.name == "Before"


def test_changing_an_unknown_supplier_answers_404(admin):
    response = api_client(admin).patch(detail("junk"), {"name": "X"}, format="json")

    assert response.status_code == 404
    error_body(response)


def test_an_admin_sets_and_replaces_a_product_line(admin):
    supplier, product = SupplierFactory(), ProductFactory()
    client = api_client(admin)
    body = {"product": str(product.pk), "pack_size": "6", "price": "0.0375"}

    first = client.post(products(supplier), body, format="json")
    second = client.post(products(supplier), {**body, "price": "0.05"}, format="json")

    assert first.status_code == second.status_code == 200, first.json()
    assert second.json()["price"] == "0.0500"
    assert SupplierProduct.objects.get().price == Decimal("0.05")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pack_size": "0"}, "pack_size"),
        ({"pack_size": "2.5"}, "pack_size"),
        ({"pack_size": "NaN"}, "pack_size"),
        ({"pack_size": "1e999"}, "pack_size"),
        ({"price": "-1"}, "price"),
        ({"price": "0.00001"}, "price"),
        ({"price": "Infinity"}, "price"),
        ({"minimum_order_quantity": "-3"}, "minimum_order_quantity"),
        ({"minimum_order_quantity": "1.5"}, "minimum_order_quantity"),
        ({"product": "junk"}, "product"),
        ({"is_preferred": "perhaps"}, "is_preferred"),
    ],
)
def test_bad_product_lines_answer_400_naming_the_field(admin, change, field):
    supplier, product = SupplierFactory(), ProductFactory(unit=Unit.PIECE)
    body = {"product": str(product.pk), **change}

    response = api_client(admin).post(products(supplier), body, format="json")

    assert response.status_code == 400
    assert field in error_body(response)["fields"]
    assert not SupplierProduct.objects.exists()


def test_setting_an_unknown_product_answers_404(admin):
    supplier = SupplierFactory()

    response = api_client(admin).post(products(supplier), {"product": NO_SUCH_ID}, format="json")

    assert response.status_code == 404


def test_a_manager_cannot_set_a_product_line(manager):
    supplier, product = SupplierFactory(), ProductFactory()

    response = api_client(manager).post(
        products(supplier), {"product": str(product.pk)}, format="json"
    )

    assert response.status_code == 403
    assert not SupplierProduct.objects.exists()


def test_an_admin_removes_a_product_line_once_per_key(admin):
    line = SupplierProductFactory()
    url = reverse("api-supplier-product", args=[line.supplier_id, line.product_id])
    client = api_client(admin)

    first = client.delete(url, headers={"Idempotency-Key": "remove-1"})
    again = client.delete(url, headers={"Idempotency-Key": "remove-1"})
    fresh = client.delete(url)

    assert first.status_code == again.status_code == 204
    assert fresh.status_code == 404
    assert not SupplierProduct.objects.exists()


def test_a_manager_cannot_remove_a_product_line(manager):
    line = SupplierProductFactory()
    url = reverse("api-supplier-product", args=[line.supplier_id, line.product_id])

    assert api_client(manager).delete(url).status_code == 403
    assert SupplierProduct.objects.exists()
