"""The item page: one product at one branch, its threshold form, alerts and recent ledger."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from alerts.models import AlertStatus, LowStockAlert
from alerts.tests.factories import LowStockAlertFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import CategoryFactory, ProductFactory
from inventory_project.tests.helpers import page_client
from stock import services
from stock.models import StockLevel

pytestmark = pytest.mark.django_db

LOW_MARKER = '<span class="tag low">low</span>'


def receive(actor, branch, product, quantity, note="") -> StockLevel:
    services.receive_stock(
        actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity, note=note
    )
    return StockLevel.objects.get(branch=branch, product=product)


def issue(actor, branch, product, quantity) -> StockLevel:
    services.issue_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity)
    return StockLevel.objects.get(branch=branch, product=product)


def page(level: StockLevel) -> str:
    return reverse("stock-level", args=[level.pk])


def set_threshold(client: Client, level: StockLevel, threshold: str, **extra):
    url = reverse("stock-level-threshold", args=[level.pk])
    return client.post(url, {"threshold": threshold}, **extra)


# Seeing the page --------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, actor, branch, product):
    level = receive(actor, branch, product, 12)

    response = client.get(page(level))

    assertRedirects(response, f"{reverse('login')}?next={page(level)}")


def test_the_item_page_shows_the_product_the_branch_and_what_is_on_hand(actor, staff):
    branch = BranchFactory(code="BER-01", name="Berlin Mitte")
    MembershipFactory(user=staff, branch=branch, role=Role.STAFF)
    product = ProductFactory(
        name="Oat milk", sku="OAT-1L", category=CategoryFactory(name="Dairy alternatives")
    )
    level = receive(actor, branch, product, "12")

    response = page_client(staff).get(page(level))

    assertContains(response, "Oat milk")
    assertContains(response, "OAT-1L")
    assertContains(response, "Dairy alternatives")
    assertContains(response, "BER-01")
    assertContains(response, "Berlin Mitte")
    assertContains(response, "<dd><strong>12</strong> pieces</dd>", html=True)
    assertNotContains(response, LOW_MARKER, html=True)


def test_the_page_says_the_threshold_is_the_products_default(actor, staff, branch, product):
    level = receive(actor, branch, product, 12)

    response = page_client(staff).get(page(level))

    assertContains(response, "the product's default")
    assertNotContains(response, "this branch's own")


def test_the_page_says_the_threshold_is_the_branchs_own(actor, staff, branch, product):
    level = receive(actor, branch, product, 12)
    services.set_low_stock_threshold(
        actor=actor, branch_id=branch.pk, product_id=product.pk, threshold="4"
    )

    response = page_client(staff).get(page(level))

    assertContains(response, "this branch's own (the product's default is 10)")


def test_a_level_below_its_threshold_is_marked_low(actor, staff, branch, product):
    level = receive(actor, branch, product, 3)

    response = page_client(staff).get(page(level))

    assertContains(response, LOW_MARKER, html=True)


def test_a_level_at_another_branch_is_not_found(actor, staff, product):
    level = receive(actor, BranchFactory(), product, 12)

    response = page_client(staff).get(page(level))

    assert response.status_code == 404


def test_an_admin_sees_the_level_of_any_branch(actor, product):
    level = receive(actor, BranchFactory(), product, 12)

    response = page_client(AdminFactory()).get(page(level))

    assert response.status_code == 200


# Alerts on the page -----------------------------------------------------------------------


def test_the_page_shows_the_open_alert_with_the_quantities_when_raised(
    actor, staff, branch, product
):
    receive(actor, branch, product, 12)
    level = issue(actor, branch, product, 5)

    response = page_client(staff).get(page(level))

    assertContains(response, "7 on hand, threshold 10")
    assertContains(response, '<span class="tag low">open</span>', html=True)


def test_the_page_shows_who_acknowledged_the_alert_and_their_note(staff, branch, product):
    alert = LowStockAlertFactory(
        stock_level__branch=branch,
        stock_level__product=product,
        acknowledged=True,
        acknowledged_by__full_name="Mia Manager",
        acknowledgement_note="reordered, due Friday",
    )

    response = page_client(staff).get(page(alert.stock_level))

    assertContains(response, "by Mia Manager")
    assertContains(response, "reordered, due Friday")


def test_staff_are_not_offered_the_acknowledge_form(staff, branch):
    alert = LowStockAlertFactory(stock_level__branch=branch)

    response = page_client(staff).get(page(alert.stock_level))

    assertNotContains(response, reverse("alert-acknowledge", args=[alert.pk]))


def test_managers_are_offered_the_acknowledge_form(manager, branch):
    alert = LowStockAlertFactory(stock_level__branch=branch)

    response = page_client(manager).get(page(alert.stock_level))

    assertContains(response, reverse("alert-acknowledge", args=[alert.pk]))
    assertContains(response, 'name="note"')


def test_an_acknowledged_alert_offers_no_acknowledge_form(manager, branch):
    alert = LowStockAlertFactory(stock_level__branch=branch, acknowledged=True)

    response = page_client(manager).get(page(alert.stock_level))

    assertNotContains(response, reverse("alert-acknowledge", args=[alert.pk]))


def test_the_page_lists_the_levels_past_alerts(staff, branch, product):
    level = StockLevel.objects.create(branch=branch, product=product, on_hand=Decimal("20"))
    LowStockAlertFactory(
        stock_level=level,
        on_hand_at_trigger=Decimal("3"),
        threshold_at_trigger=Decimal("10"),
        resolved=True,
    )

    response = page_client(staff).get(page(level))

    assertContains(response, "No open alert.")
    assertContains(response, '<td class="number" data-label="On hand">3</td>', html=True)


# The threshold form -----------------------------------------------------------------------


def test_staff_are_not_offered_the_threshold_form(actor, staff, branch, product):
    level = receive(actor, branch, product, 12)

    response = page_client(staff).get(page(level))

    assertNotContains(response, reverse("stock-level-threshold", args=[level.pk]))


def test_a_manager_sets_the_branchs_own_threshold(actor, manager, branch, product):
    level = receive(actor, branch, product, 12)

    response = set_threshold(page_client(manager), level, "4", follow=True)

    assert response.redirect_chain == [(page(level), 302)]
    assertContains(response, f"threshold of {product.sku} at {branch.code} is now 4.")
    level.refresh_from_db()
    assert level.low_stock_threshold == Decimal("4")


def test_an_empty_threshold_goes_back_to_the_products_default(actor, manager, branch, product):
    level = receive(actor, branch, product, 12)
    services.set_low_stock_threshold(
        actor=actor, branch_id=branch.pk, product_id=product.pk, threshold="4"
    )

    response = set_threshold(page_client(manager), level, "")

    assertRedirects(response, page(level))
    level.refresh_from_db()
    assert level.low_stock_threshold is None


def test_raising_the_threshold_above_on_hand_raises_an_alert(actor, manager, branch, product):
    level = receive(actor, branch, product, 12)

    set_threshold(page_client(manager), level, "20")

    assert LowStockAlert.objects.get().status == AlertStatus.OPEN


@pytest.mark.parametrize(
    ("entered", "message"),
    [("-1", "Threshold cannot be negative."), ("abc", "Threshold must be a number")],
)
def test_a_bad_threshold_is_shown_next_to_the_field_and_changes_nothing(
    actor, manager, branch, product, entered, message
):
    level = receive(actor, branch, product, 12)

    response = set_threshold(page_client(manager), level, entered)

    assert response.status_code == 400
    assertContains(response, message, status_code=400)
    assertContains(response, f'value="{entered}"', status_code=400)
    level.refresh_from_db()
    assert level.low_stock_threshold is None


def test_staff_may_not_set_a_threshold(actor, staff, branch, product):
    level = receive(actor, branch, product, 12)

    response = set_threshold(page_client(staff), level, "4")

    assertContains(response, "You may not set low-stock thresholds", status_code=403)
    level.refresh_from_db()
    assert level.low_stock_threshold is None


def test_setting_a_threshold_at_another_branch_is_not_found(actor, manager, product):
    level = receive(actor, BranchFactory(), product, 12)

    response = set_threshold(page_client(manager), level, "4")

    assert response.status_code == 404
    level.refresh_from_db()
    assert level.low_stock_threshold is None


# The ledger, its chart and the stock forms: test_item_views.py.
