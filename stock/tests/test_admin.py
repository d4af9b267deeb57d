from decimal import Decimal
from unittest import mock

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import AdminFactory
from alerts.models import AlertStatus, LowStockAlert
from catalog.tests.factories import ProductFactory
from stock import services
from stock.admin import StockLevelAdmin
from stock.models import StockLevel, StockMovement

pytestmark = pytest.mark.usefixtures("postgres")


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


@pytest.fixture
def stocked(actor, branch):
    """Ten products with stock at one branch: one movement each."""
    for product in ProductFactory.create_batch(10):
        services.receive_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=3)
    return StockLevel.objects.select_related("product").order_by("product__sku")


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m.__name__)
def test_every_changelist_opens(admin_client, stocked, model):
    response = admin_client.get(admin_url(model, "changelist"))

    assert response.status_code == 200


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m.__name__)
def test_every_changelist_searches(admin_client, stocked, model):
    response = admin_client.get(admin_url(model, "changelist"), {"q": "SKU"})

    assert response.status_code == 200


@pytest.mark.parametrize("model", [StockLevel, StockMovement])
def test_stock_changelists_run_a_constant_number_of_queries(
    admin_client, actor, branch, stocked, model
):
    with CaptureQueriesContext(connection) as few:
        admin_client.get(admin_url(model, "changelist"))
    for product in ProductFactory.create_batch(20):
        services.receive_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=1)

    with CaptureQueriesContext(connection) as many:
        admin_client.get(admin_url(model, "changelist"))

    assert len(many) == len(few)


def test_the_ledger_is_read_only_in_the_admin(admin_client, stocked):
    movement = StockMovement.objects.first()

    assert admin_client.get(admin_url(StockMovement, "add")).status_code == 403
    assert admin_client.post(admin_url(StockMovement, "delete", movement.pk)).status_code == 403
    response = admin_client.post(
        admin_url(StockMovement, "change", movement.pk), {"delta": "999", "note": "edited"}
    )
    assert response.status_code == 403
    movement.refresh_from_db()
    assert movement.delta == Decimal("3")


def test_the_ledger_entry_page_shows_the_movement(admin_client, stocked):
    movement = StockMovement.objects.first()

    response = admin_client.get(admin_url(StockMovement, "change", movement.pk))

    assert response.status_code == 200
    assert movement.product.sku in response.text
    assert 'name="_save"' not in response.text


def test_a_threshold_set_in_the_admin_goes_through_the_service(admin_client, stocked):
    level = stocked.first()

    response = admin_client.post(
        admin_url(StockLevel, "change", level.pk), {"low_stock_threshold": "4"}
    )

    assert response.status_code == 302
    level.refresh_from_db()
    assert level.low_stock_threshold == Decimal("4")
    assert level.on_hand == Decimal("3")


def test_a_threshold_above_on_hand_set_in_the_admin_raises_an_alert(admin_client, stocked):
    level = stocked.first()
    update = mock.Mock(wraps=services.set_low_stock_threshold)

    with mock.patch.dict(StockLevelAdmin.services, update=update):
        response = admin_client.post(
            admin_url(StockLevel, "change", level.pk), {"low_stock_threshold": "2"}
        )
        admin_client.post(admin_url(StockLevel, "change", level.pk), {"low_stock_threshold": "5"})

    assert response.status_code == 302
    assert update.call_count == 2
    alert = LowStockAlert.objects.get(stock_level=level)
    assert alert.status == AlertStatus.OPEN
    assert alert.threshold_at_trigger == Decimal("5")


def test_a_fractional_threshold_for_pieces_is_a_form_error(admin_client, stocked):
    level = stocked.first()

    response = admin_client.post(
        admin_url(StockLevel, "change", level.pk), {"low_stock_threshold": "2.5"}
    )

    assert response.status_code == 200
    assert "must be a whole number of pieces" in response.text
    level.refresh_from_db()
    assert level.low_stock_threshold is None


def test_on_hand_cannot_be_edited_in_the_admin(admin_client, stocked):
    level = stocked.first()

    admin_client.post(
        admin_url(StockLevel, "change", level.pk), {"low_stock_threshold": "", "on_hand": "999"}
    )

    level.refresh_from_db()
    assert level.on_hand == Decimal("3")
    assert StockMovement.objects.filter(stock_level=level).count() == 1


def test_stock_levels_cannot_be_added_or_deleted_in_the_admin(admin_client, stocked):
    level = stocked.first()

    assert admin_client.get(admin_url(StockLevel, "add")).status_code == 403
    assert admin_client.post(admin_url(StockLevel, "delete", level.pk)).status_code == 403


def test_the_low_stock_filter_lists_levels_below_threshold(admin_client, actor, stocked):
    # Products default to a threshold of 10; give one level enough to be above it.
    healthy = stocked.first()
    services.receive_stock(
        actor=actor, branch_id=healthy.branch_id, product_id=healthy.product_id, quantity=20
    )

    low = admin_client.get(admin_url(StockLevel, "changelist"), {"low": "yes"})
    fine = admin_client.get(admin_url(StockLevel, "changelist"), {"low": "no"})

    assert low.context["cl"].result_count == 9
    assert list(fine.context["cl"].result_list) == [healthy]


def test_the_stock_list_marks_low_levels_and_shows_plain_quantities(admin_client, stocked):
    response = admin_client.get(admin_url(StockLevel, "changelist"))

    rows = response.text.split('<tr class="')
    first_row = next(row for row in rows if stocked.first().product.sku in row)
    assert '<td class="field-quantity">3</td>' in first_row
    assert '<td class="field-status">LOW</td>' in first_row
