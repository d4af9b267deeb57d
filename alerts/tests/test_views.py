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


# Search and sort --------------------------------------------------------------------------


def names_in(response, *names) -> list[str]:
    """``names`` in the order the page shows them."""
    html = response.content.decode()
    return sorted((name for name in names if name in html), key=html.index)


def test_the_list_searches_the_sku_or_name_in_any_case(staff, branch):
    alert_at(branch, "Oat milk")
    LowStockAlertFactory(
        stock_level__branch=branch,
        stock_level__product=ProductFactory(name="Rye bread", sku="BRD-9"),
    )
    alert_at(branch, "Espresso")

    client = page_client(staff)

    assert names_in(client.get(reverse("alerts"), {"q": "OAT"}), "Oat milk", "Rye bread") == [
        "Oat milk"
    ]
    assert names_in(client.get(reverse("alerts"), {"q": "brd-"}), "Oat milk", "Rye bread") == [
        "Rye bread"
    ]


def test_the_list_sorts_by_product_name(staff, branch):
    for name in ("Banana", "Cherry", "Apple"):
        alert_at(branch, name)

    response = page_client(staff).get(reverse("alerts"), {"sort": "product"})

    assert names_in(response, "Banana", "Cherry", "Apple") == ["Apple", "Banana", "Cherry"]


def test_the_list_sorts_oldest_first(staff, branch):
    from datetime import timedelta

    from django.utils import timezone

    alert_at(branch, "Recent", raised_at=timezone.now())
    alert_at(branch, "Ancient", raised_at=timezone.now() - timedelta(days=3))

    client = page_client(staff)

    assert names_in(client.get(reverse("alerts")), "Recent", "Ancient") == ["Recent", "Ancient"]
    assert names_in(client.get(reverse("alerts"), {"sort": "oldest"}), "Recent", "Ancient") == [
        "Ancient",
        "Recent",
    ]


def test_the_list_sorts_by_on_hand_when_raised(staff, branch):
    for name, on_hand in (("Two", 2), ("Five", 5), ("One", 1)):
        alert = alert_at(branch, name)
        LowStockAlert.objects.filter(pk=alert.pk).update(on_hand_at_trigger=on_hand)

    response = page_client(staff).get(reverse("alerts"), {"sort": "on_hand"})

    assert names_in(response, "Two", "Five", "One") == ["One", "Two", "Five"]


def test_an_unknown_sort_or_product_is_no_sort_or_filter(staff, branch):
    alert_at(branch, "Oat milk")

    response = page_client(staff).get(reverse("alerts"), {"sort": "nope", "product": "x"})

    assertContains(response, "Oat milk")


def test_the_list_filters_by_product(staff, branch):
    alert = alert_at(branch, "Oat milk")
    alert_at(branch, "Rye bread")

    response = page_client(staff).get(reverse("alerts"), {"product": alert.product_id})

    assert names_in(response, "Oat milk", "Rye bread") == ["Oat milk"]


def test_paging_links_keep_the_search_and_sort(staff, branch):
    for number in range(51):
        alert_at(branch, f"Milk {number}")

    response = page_client(staff).get(reverse("alerts"), {"q": "milk", "sort": "product"})

    assertContains(response, "q=milk&amp;sort=product&amp;page=2")


def test_htmx_gets_only_the_results(staff, branch):
    alert_at(branch, "Oat milk")

    response = page_client(staff).get(reverse("alerts"), {"q": "oat"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert 'id="alert-results"' in html
    assert "<html" not in html
    assert "Oat milk" in html


def test_a_search_costs_the_same_queries_whatever_the_number_of_alerts(
    manager, branch, django_assert_num_queries
):
    client = page_client(manager)
    params = {"q": "milk", "sort": "branch", "status": "all"}
    alert_at(branch, "Milk 0")
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("alerts"), params).status_code == 200
    for number in range(30):
        alert_at(branch, f"Milk {number + 1}", acknowledged=number % 2 == 0)

    with django_assert_num_queries(len(few)):
        response = client.get(reverse("alerts"), params)

    assertContains(response, "Milk 30")


# Acknowledging several --------------------------------------------------------------------


def bulk(client: Client, alerts, **data):
    form = {"once": data.pop("once", "k-" + "".join(str(a.pk)[:4] for a in alerts) + "x")}
    return client.post(
        reverse("alerts-acknowledge"), {"alerts": [str(a.pk) for a in alerts], **form, **data}
    )


def test_managers_get_a_checkbox_per_open_alert(manager, branch):
    alert = alert_at(branch, "Oat milk")
    done = alert_at(branch, "Rye bread", acknowledged=True)

    response = page_client(manager).get(reverse("alerts"))

    assertContains(response, f'value="{alert.pk}"')
    assertNotContains(response, f'value="{done.pk}"')
    assertContains(response, reverse("alerts-acknowledge"))


def test_staff_get_no_checkboxes(staff, branch):
    alert_at(branch, "Oat milk")

    response = page_client(staff).get(reverse("alerts"))

    assertNotContains(response, reverse("alerts-acknowledge"))


def test_a_manager_acknowledges_the_selected_alerts(manager, branch):
    picked = [alert_at(branch, "Oat milk"), alert_at(branch, "Rye bread")]
    left = alert_at(branch, "Espresso")

    response = bulk(page_client(manager), picked, note="Ordered", q="o", sort="product")

    back = f"{reverse('alerts')}?q=o&sort=product"
    assertRedirects(response, back, fetch_redirect_response=False)
    statuses = dict(LowStockAlert.objects.values_list("pk", "status"))
    assert {statuses[a.pk] for a in picked} == {AlertStatus.ACKNOWLEDGED}
    assert statuses[left.pk] == AlertStatus.OPEN


def test_the_page_says_how_many_were_acknowledged(manager, branch):
    picked = [alert_at(branch, "Oat milk"), alert_at(branch, "Rye bread")]
    client = page_client(manager)

    response = client.get(bulk(client, picked).url)

    assertContains(response, "You acknowledged 2 alerts.")


def test_a_double_submitted_bulk_form_acknowledges_once(manager, branch, published_events):
    picked = [alert_at(branch, "Oat milk")]
    client = page_client(manager)
    published_events.clear()

    bulk(client, picked, once="same-key")
    again = bulk(client, picked, once="same-key")

    assert len(published_events) == 1
    assertContains(client.get(again.url), "Already recorded")


def test_an_empty_selection_is_refused_beside_the_button(manager, branch):
    alert_at(branch, "Oat milk")

    response = bulk(page_client(manager), [], note="typed")

    assert response.status_code == 400
    assertContains(response, "Choose at least one alert.", status_code=400)
    assertContains(response, 'value="typed"', status_code=400)


def test_a_refused_bulk_form_keeps_the_selection_and_the_filters(manager, branch):
    picked = alert_at(branch, "Oat milk")
    alert_at(branch, "Oat bran")

    response = bulk(page_client(manager), [picked], note="x" * 501, q="oat")

    assert response.status_code == 400
    html = response.content.decode()
    assert f'value="{picked.pk}" id="select-{picked.pk}" checked' in html
    assert html.count(" checked") == 1
    assert 'name="q" value="oat"' in html
    picked.refresh_from_db()
    assert picked.status == AlertStatus.OPEN


def test_a_selection_with_a_branch_the_user_may_not_acknowledge_at_is_refused(branch):
    other = BranchFactory()
    user = MembershipFactory(branch=branch, role=Role.MANAGER).user
    MembershipFactory(user=user, branch=other, role=Role.STAFF)
    mine, theirs = alert_at(branch, "Oat milk"), alert_at(other, "Rye bread")

    response = bulk(page_client(user), [mine, theirs])

    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.status == AlertStatus.OPEN


def test_a_selection_with_another_branchs_alert_is_not_found(manager, branch):
    mine = alert_at(branch, "Oat milk")
    hidden = LowStockAlertFactory()

    response = bulk(page_client(manager), [mine, hidden])

    assert response.status_code == 404
    mine.refresh_from_db()
    assert mine.status == AlertStatus.OPEN


def test_acknowledging_several_takes_a_post_only(manager):
    assert page_client(manager).get(reverse("alerts-acknowledge")).status_code == 405


# The badge --------------------------------------------------------------------------------


def test_the_badge_still_counts_alerts_acknowledged_in_bulk(manager, branch):
    picked = [alert_at(branch, "Oat milk"), alert_at(branch, "Rye bread")]
    client = page_client(manager)
    before = client.get(reverse("alert-badge")).content.decode()

    bulk(client, picked)

    after = client.get(reverse("alert-badge")).content.decode()
    assert ">2</span>" in before
    assert after == before


# The item page's link ---------------------------------------------------------------------


def test_the_item_page_links_to_its_alerts_which_list_that_product_at_that_branch(staff, branch):
    from html import unescape

    alert = alert_at(branch, "Oat milk", resolved=True)
    alert_at(branch, "Rye bread")
    client = page_client(staff)

    page = client.get(item_page(alert)).content.decode()

    link = f"{reverse('alerts')}?status=all&branch={branch.code}&product={alert.product_id}"
    assert f'href="{link}"'.replace("&", "&amp;") in page
    listed = client.get(unescape(link))
    assert names_in(listed, "Oat milk", "Rye bread") == ["Oat milk"]
