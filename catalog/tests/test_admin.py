"""The catalog's back office changes products and categories through the catalog services,
with the same checks and effects as the API."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection, transaction
from django.urls import reverse

from accounts.tests.factories import AdminFactory
from alerts.models import AlertStatus, LowStockAlert
from catalog import services
from catalog.admin import CategoryAdmin, ProductAdmin
from catalog.models import Category, Product, Unit
from catalog.tests.factories import CategoryFactory, ProductFactory
from inventory_project.kernel import realtime
from inventory_project.tests.helpers import GroupListener
from stock import services as stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


def url(model, view, *args):
    return reverse(f"admin:catalog_{model._meta.model_name}_{view}", args=args)


def product_data(product, **changes):
    data = {
        "sku": product.sku,
        "barcode": product.barcode or "",
        "name": product.name,
        "category": str(product.category_id or ""),
        "unit": product.unit,
        "is_active": "on" if product.is_active else "",
        "cost_price": str(product.cost_price),
        "sale_price": str(product.sale_price),
        "low_stock_threshold": str(product.low_stock_threshold),
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value != ""}


@pytest.fixture
def catalog_events():
    listener = GroupListener(realtime.CATALOG_GROUP)
    yield listener.received
    listener.stop()


# Products ---------------------------------------------------------------------------------


def test_a_product_added_in_the_admin_goes_through_the_service(admin_client):
    category = CategoryFactory()

    create = mock.Mock(wraps=services.create_product)
    with mock.patch.dict(ProductAdmin.services, create=create):
        admin_client.post(
            reverse("admin:catalog_product_add"),
            {
                "sku": "TEA-1",
                "name": "Green tea",
                "category": str(category.pk),
                "unit": Unit.PIECE,
                "is_active": "on",
                "cost_price": "1.00",
                "sale_price": "2.00",
                "low_stock_threshold": "5",
            },
        )

    create.assert_called_once()
    product = Product.objects.get(sku="TEA-1")
    assert (product.category, product.low_stock_threshold) == (category, Decimal("5"))
    assert product.barcode is None


def test_a_product_added_in_the_admin_opens_its_change_page_with_continue(admin_client):
    response = admin_client.post(
        reverse("admin:catalog_product_add"),
        {
            "sku": "TEA-1",
            "name": "Green tea",
            "unit": Unit.PIECE,
            "cost_price": "0",
            "sale_price": "0",
            "low_stock_threshold": "0",
            "_continue": "1",
        },
    )

    product = Product.objects.get(sku="TEA-1")
    assert response["Location"] == url(Product, "change", product.pk)


def test_raising_a_default_threshold_in_the_admin_raises_an_alert_and_tells_every_page(
    admin_client, actor, branch, catalog_events, django_capture_on_commit_callbacks
):
    product = ProductFactory(low_stock_threshold=Decimal("5"))
    stock.receive_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=10)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url(Product, "change", product.pk), product_data(product, low_stock_threshold="20")
        )

    assert response.status_code == 302
    alert = LowStockAlert.objects.get(product=product, branch=branch)
    assert alert.status == AlertStatus.OPEN
    assert alert.threshold_at_trigger == Decimal("20")
    [event] = [e for e in catalog_events() if e["type"] == "product.changed"]
    assert event["data"]["product"] == str(product.pk)
    assert event["data"]["changed"] == ["low_stock_threshold"]


def test_the_unit_of_a_product_with_stock_history_is_refused_on_the_form(
    admin_client, actor, branch, product
):
    stock.receive_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=3)

    response = admin_client.post(
        url(Product, "change", product.pk),
        product_data(product, unit=Unit.KILOGRAM, name="Renamed"),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "has stock history; its unit cannot change" in errors["unit"][0]
    assert 'value="Renamed"' in response.text  # the form as it was typed
    assert "was changed successfully" not in response.text
    product.refresh_from_db()
    assert (product.unit, product.name) == (Unit.PIECE, product.name)
    assert product.name != "Renamed"


def test_a_product_change_in_the_admin_takes_the_services_row_lock(admin_client, product):
    with mock.patch.object(services, "_lock_product", wraps=services._lock_product) as lock:
        response = admin_client.post(
            url(Product, "change", product.pk), product_data(product, name="Renamed")
        )

    assert response.status_code == 302
    lock.assert_called_once_with(product.pk, no_key=True)
    product.refresh_from_db()
    assert product.name == "Renamed"


def test_an_unchanged_product_saved_in_the_admin_is_not_announced(admin_client, product):
    update = mock.Mock()
    with mock.patch.dict(ProductAdmin.services, update=update):
        response = admin_client.post(url(Product, "change", product.pk), product_data(product))

    assert response.status_code == 302
    update.assert_not_called()


def test_deleting_a_product_with_stock_history_in_the_admin_is_refused(
    admin_client, actor, branch, product
):
    stock.receive_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=3)

    response = admin_client.post(url(Product, "delete", product.pk), {"post": "yes"}, follow=True)

    assert "has stock history; deactivate it instead" in response.text
    assert Product.objects.filter(pk=product.pk).exists()


def test_deleting_a_product_no_branch_held_in_the_admin_removes_it(admin_client, product):
    response = admin_client.post(url(Product, "delete", product.pk), {"post": "yes"})

    assert response["Location"] == url(Product, "changelist")
    assert not Product.objects.filter(pk=product.pk).exists()


def test_bulk_deleting_products_removes_those_the_service_allows_and_names_the_rest(
    admin_client, actor, branch
):
    held, unheld = ProductFactory(), ProductFactory()
    stock.receive_stock(actor=actor, branch_id=branch.pk, product_id=held.pk, quantity=1)

    response = admin_client.post(
        url(Product, "changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [str(held.pk), str(unheld.pk)],
            "post": "yes",
        },
        follow=True,
    )

    assert list(Product.objects.all()) == [held]
    assert f"Product {held.sku} has stock history" in response.text
    assert "Deleted 1 product." in response.text
    assert "Successfully deleted" not in response.text


# Categories -------------------------------------------------------------------------------


def test_a_category_name_taken_whatever_its_case_is_refused_beside_the_name(admin_client):
    CategoryFactory(name="Beverages")

    response = admin_client.post(url(Category, "add"), {"name": "BEVERAGES"})

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["name"] == ["A category named BEVERAGES already exists."]
    assert Category.objects.count() == 1


def test_a_category_renamed_in_the_admin_goes_through_the_service(admin_client):
    category = CategoryFactory(name="Drinks")

    update = mock.Mock(wraps=services.update_category)
    with mock.patch.dict(CategoryAdmin.services, update=update):
        response = admin_client.post(url(Category, "change", category.pk), {"name": "Beverages"})

    assert response.status_code == 302
    update.assert_called_once()
    category.refresh_from_db()
    assert category.name == "Beverages"


def test_a_category_that_holds_products_is_not_deleted_in_the_admin(admin_client, product):
    response = admin_client.post(
        url(Category, "delete", product.category_id), {"post": "yes"}, follow=True
    )

    assert "still has 1 product" in response.text
    assert Category.objects.filter(pk=product.category_id).exists()


def waiting_for_a_row_lock(*, within: float) -> bool:
    """Whether another connection to the test database comes to wait for a lock."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_change_in_the_admin_waits_for_an_api_change_and_keeps_it(postgres, client):
    """The admin save queues behind the row lock an API change holds, then changes only
    what its form changed: the API's new name survives the admin's new threshold."""
    client.force_login(AdminFactory())
    product = ProductFactory(name="Green tea", low_stock_threshold=Decimal("5"))
    data = product_data(product, low_stock_threshold="20")  # as the admin's form was filled
    api_holds_lock, api_may_commit = threading.Event(), threading.Event()

    def api_change():
        try:
            with transaction.atomic():
                services.update_product(actor=AdminFactory(), product_id=product.pk, name="Matcha")
                api_holds_lock.set()
                api_may_commit.wait(10)
        finally:
            connection.close()

    def admin_change():
        try:
            return client.post(url(Product, "change", product.pk), data).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        api = pool.submit(api_change)
        assert api_holds_lock.wait(10)
        admin_save = pool.submit(admin_change)
        waited = waiting_for_a_row_lock(within=10) and not admin_save.done()
        api_may_commit.set()
        api.result(10)
        assert admin_save.result(10) == 302

    assert waited
    product.refresh_from_db()
    assert (product.name, product.low_stock_threshold) == ("Matcha", Decimal("20"))
