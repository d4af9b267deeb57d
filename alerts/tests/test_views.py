"""The alert pages: the list with its filters, and acknowledging an alert."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from alerts.models import AlertStatus, LowStockAlert
from alerts.tests.factories import LowStockAlertFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import page_client

pytestmark = pytest.mark.django_db


def alert_at(branch, name: str, **kwargs) -> LowStockAlert:
    return LowStockAlertFactory(
        stock_level__branch=branch, stock_level__product=ProductFactory(name=name), **kwargs
    )


def acknowledge(client: Client, alert: LowStockAlert, **data):
    return client.post(reverse("alert-acknowledge", args=[alert.pk]), data)


def item_page(alert: LowStockAlert) -> str:
    return reverse("stock-level", args=[alert.stock_level_id])


# The list ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("alerts"))

    assertRedirects(response, f"{reverse('login')}?next={reverse('alerts')}")


def test_the_list_shows_the_unresolved_alerts_by_default(staff, branch):
    alert_at(branch, "Open oat milk")
    alert_at(branch, "Acknowledged rye bread", acknowledged=True)
    alert_at(branch, "Resolved espresso", resolved=True)

    response = page_client(staff).get(reverse("alerts"))

    assertContains(response, "Open oat milk")
    assertContains(response, "Acknowledged rye bread")
    assertNotContains(response, "Resolved espresso")


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        ("open", {"Open oat milk"}),
        ("acknowledged", {"Acknowledged rye bread"}),
        ("resolved", {"Resolved espresso"}),
        ("all", {"Open oat milk", "Acknowledged rye bread", "Resolved espresso"}),
    ],
)
def test_the_list_filters_by_status(staff, branch, status, shown):
    alert_at(branch, "Open oat milk")
    alert_at(branch, "Acknowledged rye bread", acknowledged=True)
    alert_at(branch, "Resolved espresso", resolved=True)

    response = page_client(staff).get(reverse("alerts"), {"status": status})

    for name in ("Open oat milk", "Acknowledged rye bread", "Resolved espresso"):
        assert (name in response.content.decode()) == (name in shown), name


def test_the_list_filters_by_branch(branch):
    other = BranchFactory(code="HAM-01")
    manager = MembershipFactory(branch=branch, role=Role.MANAGER).user
    MembershipFactory(user=manager, branch=other, role=Role.MANAGER)
    alert_at(branch, "Oat milk here")
    alert_at(other, "Rye bread in Hamburg")

    response = page_client(manager).get(reverse("alerts"), {"branch": "HAM-01"})

    assertContains(response, "Rye bread in Hamburg")
    assertNotContains(response, "Oat milk here")
    assertContains(response, '<option value="HAM-01" selected>HAM-01 · Branch', html=False)


def test_the_list_leaves_out_alerts_of_branches_the_user_may_not_see(staff, branch):
    alert_at(branch, "Oat milk here")
    alert_at(BranchFactory(code="MUC-01"), "Rye bread in Munich")

    response = page_client(staff).get(reverse("alerts"), {"branch": "MUC-01"})

    assertContains(response, "Oat milk here")
    assertNotContains(response, "Rye bread in Munich")
    assertNotContains(response, "MUC-01")


def test_each_alert_links_to_its_item_page(staff, branch):
    alert = alert_at(branch, "Oat milk")

    response = page_client(staff).get(reverse("alerts"))

    assertContains(response, f'<a href="{item_page(alert)}">Oat milk</a>', html=True)


def test_the_list_shows_the_quantities_when_raised(staff, branch):
    LowStockAlertFactory(
        stock_level__branch=branch,
        on_hand_at_trigger=Decimal("2.5"),
        threshold_at_trigger=Decimal("10"),
    )

    response = page_client(staff).get(reverse("alerts"))

    assertContains(response, '<td class="number">2.5</td>', html=True)
    assertContains(response, '<td class="number">10</td>', html=True)


def test_the_list_shows_fifty_alerts_a_page(staff, branch):
    for number in range(51):
        alert_at(branch, f"Product number {number:02d}")

    first = page_client(staff).get(reverse("alerts"))
    second = page_client(staff).get(reverse("alerts"), {"page": 2})

    assertContains(first, "Product number", count=50)
    assertContains(first, "Page 1 of 2")
    assertContains(second, "Product number", count=1)


def test_the_list_costs_the_same_queries_whatever_the_number_of_alerts(
    manager, branch, django_assert_num_queries
):
    client = page_client(manager)
    alert_at(branch, "The first")
    with CaptureQueriesContext(connection) as one_alert:
        assert client.get(reverse("alerts")).status_code == 200
    for number in range(60):
        alert_at(branch, f"Another {number}", acknowledged=number % 2 == 0)

    with django_assert_num_queries(len(one_alert)):
        response = client.get(reverse("alerts"), {"status": "all"})

    assertContains(response, "Page 1 of 2")


def test_managers_are_offered_an_acknowledge_button_on_open_alerts(manager, branch):
    alert = alert_at(branch, "Oat milk")

    response = page_client(manager).get(reverse("alerts"))

    assertContains(response, reverse("alert-acknowledge", args=[alert.pk]))


def test_staff_are_offered_no_acknowledge_button(staff, branch):
    alert = alert_at(branch, "Oat milk")

    response = page_client(staff).get(reverse("alerts"))

    assertNotContains(response, reverse("alert-acknowledge", args=[alert.pk]))


# Acknowledging ----------------------------------------------------------------------------


def test_a_manager_acknowledges_an_alert_with_a_note(manager, branch):
    alert = alert_at(branch, "Oat milk")

    response = acknowledge(page_client(manager), alert, note="reordered, due Friday")

    assertRedirects(response, item_page(alert), fetch_redirect_response=False)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert alert.acknowledged_by == manager
    assert alert.acknowledgement_note == "reordered, due Friday"


def test_acknowledging_says_so_on_the_page_it_returns_to(manager, branch):
    alert = alert_at(branch, "Oat milk")
    client = page_client(manager)

    response = client.post(reverse("alert-acknowledge", args=[alert.pk]), follow=True)

    assertContains(response, f"You acknowledged the alert for {alert.product.sku}")


def test_staff_may_not_acknowledge_an_alert(staff, branch):
    alert = alert_at(branch, "Oat milk")
    client = page_client(staff)

    response = client.post(
        reverse("alert-acknowledge", args=[alert.pk]), {"note": "on it"}, follow=True
    )

    assert response.redirect_chain == [(item_page(alert), 302)]
    assertContains(response, "You may not acknowledge alerts at")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    assert alert.acknowledged_by is None


def test_acknowledging_a_resolved_alert_says_the_stock_is_back(manager, branch):
    alert = alert_at(branch, "Oat milk", resolved=True)

    response = page_client(manager).post(reverse("alert-acknowledge", args=[alert.pk]), follow=True)

    assertContains(response, "is resolved: the stock is back.")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_acknowledging_an_alert_of_another_branch_is_not_found(manager):
    alert = alert_at(BranchFactory(), "Oat milk")

    response = acknowledge(page_client(manager), alert)

    assert response.status_code == 404
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_acknowledging_returns_to_the_page_it_came_from(manager, branch):
    alert = alert_at(branch, "Oat milk")

    response = acknowledge(page_client(manager), alert, next="/alerts/?status=open")

    assertRedirects(response, "/alerts/?status=open", fetch_redirect_response=False)


def test_acknowledging_never_returns_to_another_site(manager, branch):
    alert = alert_at(branch, "Oat milk")

    response = acknowledge(page_client(manager), alert, next="https://evil.example/")

    assertRedirects(response, item_page(alert), fetch_redirect_response=False)


def test_acknowledging_takes_a_post_only(manager, branch):
    alert = alert_at(branch, "Oat milk")

    response = page_client(manager).get(reverse("alert-acknowledge", args=[alert.pk]))

    assert response.status_code == 405


def test_acknowledging_without_the_csrf_token_is_refused(manager, branch):
    alert = alert_at(branch, "Oat milk")
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    response = acknowledge(client, alert)

    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
