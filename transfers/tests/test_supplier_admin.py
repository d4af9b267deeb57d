"""The back office changes suppliers and what they sell through catalog.services: the same
rules as the pages and the API, the refusal shown on the form."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import AdminFactory
from catalog.models import Supplier, SupplierProduct
from catalog.tests.factories import ProductFactory, SupplierFactory, SupplierProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


def supplier_data(supplier=None, lines=(), initial=0, **changes) -> dict:
    data = {
        "code": supplier.code if supplier else "ACME",
        "name": supplier.name if supplier else "Acme Tools",
        "is_active": "on",
        "contact_name": "",
        "email": "orders@acme.example",
        "phone": "",
        "lead_time_days": "7",
        "currency": "EUR",
        "products-TOTAL_FORMS": str(len(lines)),
        "products-INITIAL_FORMS": str(initial),
        **changes,
    }
    for index, line in enumerate(lines):
        data.update({f"products-{index}-{key}": value for key, value in line.items()})
    return data


def line(product, **changes) -> dict:
    return {
        "product": str(product.pk),
        "supplier_sku": "AC-1",
        "pack_size": "6",
        "price": "0.5",
        "minimum_order_quantity": "0",
        **changes,
    }


def test_a_supplier_added_in_the_admin_gets_its_products_through_the_services(admin_client):
    product = ProductFactory()

    response = admin_client.post(
        reverse("admin:catalog_supplier_add"),
        supplier_data(code="ACME", lines=[line(product, is_preferred="on")]),
    )

    assert response.status_code == 302
    supplier = Supplier.objects.get()
    assert supplier.code == "ACME"
    sold = SupplierProduct.objects.get()
    assert (sold.supplier, sold.pack_size, sold.is_preferred) == (supplier, Decimal("6"), True)


def test_a_broken_pack_size_in_the_admin_is_refused_on_the_form(admin_client):
    supplier, product = SupplierFactory(), ProductFactory()

    response = admin_client.post(
        reverse("admin:catalog_supplier_change", args=[supplier.pk]),
        supplier_data(supplier, lines=[line(product, pack_size="2.5")]),
    )

    assert response.status_code == 200
    assert "whole number" in response.content.decode()
    assert not SupplierProduct.objects.exists()


def test_a_product_line_removed_in_the_admin_goes_through_the_service(admin_client):
    sold = SupplierProductFactory()
    data = supplier_data(
        sold.supplier,
        lines=[{**line(sold.product), "id": str(sold.pk), "DELETE": "on"}],
        initial=1,
        **{"products-0-supplier": str(sold.supplier_id)},
    )

    response = admin_client.post(
        reverse("admin:catalog_supplier_change", args=[sold.supplier_id]), data
    )

    assert response.status_code == 302
    assert not SupplierProduct.objects.exists()


def test_suppliers_are_deactivated_not_deleted_in_the_admin(admin_client):
    supplier = SupplierFactory()

    response = admin_client.post(
        reverse("admin:catalog_supplier_delete", args=[supplier.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert Supplier.objects.exists()
