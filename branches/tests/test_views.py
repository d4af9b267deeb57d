"""The branch directory page: every active branch for anyone signed in, searchable by code
or name, and nothing of another branch's stock."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from branches.models import BranchKind
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import page_client
from stock.services import receive_stock

pytestmark = pytest.mark.django_db

URL = reverse("branch-directory")


@pytest.fixture
def staff():
    return MembershipFactory(role=Role.STAFF, branch__code="BER-01", branch__name="Berlin").user


@pytest.fixture
def hamburg():
    return BranchFactory(
        code="HAM-01",
        name="Hamburg Hafen",
        kind=BranchKind.WAREHOUSE,
        city="Hamburg",
        address="Hafenstraße 1",
    )


def test_anonymous_visitors_are_sent_to_sign_in():
    response = Client().get(URL)

    assertRedirects(response, f"{reverse('login')}?next={URL}", fetch_redirect_response=False)


def test_staff_of_one_branch_see_every_active_branch(staff, hamburg):
    response = page_client(staff).get(URL)

    assertContains(response, "Hamburg Hafen")


def test_other_branches_show_their_address(staff, hamburg):
    response = page_client(staff).get(URL)

    assertContains(response, "Hafenstraße 1")


def test_other_branches_show_their_kind_and_city(staff, hamburg):
    response = page_client(staff).get(URL)

    assertContains(response, '<td data-label="Kind">Warehouse</td>')
    assertContains(response, '<td data-label="City">Hamburg</td>')


def test_kind_shows_only_shops_or_warehouses(staff, hamburg):
    response = page_client(staff).get(URL, {"kind": "WAREHOUSE"})

    assertNotContains(response, "Berlin")


def test_an_unknown_kind_shows_every_branch(staff, hamburg):
    response = page_client(staff).get(URL, {"kind": "KIOSK"})

    assertContains(response, "Berlin")


def test_inactive_branches_are_left_out(staff):
    BranchFactory(code="OLD-01", name="Closed long ago", is_active=False)

    response = page_client(staff).get(URL)

    assertNotContains(response, "Closed long ago")


def test_another_branchs_stock_is_not_shown(staff, hamburg):
    product = ProductFactory(name="Secret oat milk")
    manager = MembershipFactory(branch=hamburg, role=Role.MANAGER).user
    receive_stock(actor=manager, branch_id=hamburg.pk, product_id=product.pk, quantity=7)

    response = page_client(staff).get(URL)

    assertNotContains(response, "Secret oat milk")


def test_only_ones_own_branches_link_to_their_stock(staff, hamburg):
    response = page_client(staff).get(URL)

    assertContains(response, f"{reverse('stock-list')}?branch=BER-01")
    assertNotContains(response, f"{reverse('stock-list')}?branch=HAM-01")


@pytest.mark.parametrize("q", ["ham-", "hafen", "HAMBURG"])
def test_q_searches_code_name_and_city_whatever_its_case(staff, hamburg, q):
    BranchFactory(code="MUC-01", name="München Mitte")

    response = page_client(staff).get(URL, {"q": q})

    assertNotContains(response, "München Mitte")


def test_the_search_keeps_what_was_typed(staff):
    response = page_client(staff).get(URL, {"q": "Nowhere"})

    assertContains(response, 'value="Nowhere"')


def test_a_search_matching_nothing_says_so(staff):
    response = page_client(staff).get(URL, {"q": "Nowhere"})

    assertContains(response, "No active branch matches")


def test_htmx_requests_get_only_the_results(staff, hamburg):
    response = page_client(staff).get(URL, {"q": "ham"}, headers={"HX-Request": "true"})

    assertNotContains(response, "<html")


def test_htmx_requests_put_the_search_in_the_address(staff, hamburg):
    response = page_client(staff).get(
        URL, {"q": " ham ", "kind": "WAREHOUSE"}, headers={"HX-Request": "true"}
    )

    assert response["HX-Push-Url"] == f"{URL}?q=ham&kind=WAREHOUSE"


def test_long_lists_are_paged(staff):
    for number in range(55):
        BranchFactory(code=f"X-{number:02d}")

    response = page_client(staff).get(URL, {"page": 2})

    assertContains(response, "Page 2 of 2")


def test_the_second_page_links_back_to_the_first(staff):
    for number in range(55):
        BranchFactory(code=f"X-{number:02d}")

    response = page_client(staff).get(URL, {"page": 2})

    assertContains(response, f'rel="prev" href="{URL}"')


def test_the_page_takes_as_many_queries_for_many_branches_as_for_one(
    staff, django_assert_num_queries
):
    client = page_client(staff)
    with CaptureQueriesContext(connection) as one_branch:
        assert client.get(URL).status_code == 200
    for number in range(40):
        BranchFactory(code=f"X-{number:02d}", address=f"Street {number}")

    with django_assert_num_queries(len(one_branch)):
        response = client.get(URL)

    assertContains(response, "41 branches")
