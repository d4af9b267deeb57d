"""The replenishment page: the plan per branch with every suggestion ticked, one button that
creates the drafts once, and the page listing what was made."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory, SupplierFactory
from inventory_project.tests.helpers import page_client
from stock.models import StockLevel
from transfers.models import PurchaseOrder, Transfer, TransferStatus
from transfers.tests.factories import PurchaseOrderFactory, offered

pytestmark = pytest.mark.django_db

PAGE = reverse("replenishment")


@pytest.fixture
def here():
    return BranchFactory(code="HERE")


@pytest.fixture
def there():
    return BranchFactory(code="THERE")


@pytest.fixture
def manager(here):
    return MembershipFactory(branch=here, role=Role.MANAGER).user


@pytest.fixture
def short(here, there):
    """HERE needs 16 of a widget; THERE can spare 7; ACME sells the rest."""
    widget = ProductFactory(sku="W-1", name="Widget", low_stock_threshold=Decimal(10))
    offered(SupplierFactory(code="ACME"), widget, preferred=True)
    StockLevel.objects.create(branch=here, product=widget, on_hand=4)
    StockLevel.objects.create(branch=there, product=widget, on_hand=27)
    return widget


def ticked(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'name="choices" value="([^"]+)"[^>]* checked', html)


def once(response) -> str:
    return re.search(r'name="once" value="(\w+)"', response.content.decode()).group(1)


def test_the_page_shows_the_need_and_ticks_every_suggestion(manager, short):
    response = page_client(manager).get(PAGE)

    assertContains(response, "Widget")
    assertContains(response, "7 from THERE")
    assertContains(response, "ACME")
    assert len(ticked(response)) == 2
    assertContains(response, 'id="replenishment-apply"')


def test_creating_drafts_makes_them_and_lists_them(manager, short, here):
    client = page_client(manager)
    page = client.get(PAGE)

    response = client.post(PAGE, {"once": once(page), "choices": ticked(page)}, follow=True)

    transfer = Transfer.objects.get()
    order = PurchaseOrder.objects.get()
    assert (transfer.to_branch, transfer.status) == (here, TransferStatus.REQUESTED)
    assert order.branch == here
    assertContains(response, transfer.reference)
    assertContains(response, order.reference)
    assertContains(response, reverse("transfer", args=[transfer.pk]))
    assertContains(response, f"/purchase-orders/{order.pk}/")


def test_a_double_submit_creates_the_drafts_once(manager, short):
    client = page_client(manager)
    page = client.get(PAGE)
    data = {"once": once(page), "choices": ticked(page)}

    client.post(PAGE, data)
    again = client.post(PAGE, data, follow=True)

    assert (Transfer.objects.count(), PurchaseOrder.objects.count()) == (1, 1)
    assertContains(again, "Already done")


def test_unticked_suggestions_are_left_alone(manager, short):
    client = page_client(manager)
    page = client.get(PAGE)
    order_only = [key for key in ticked(page) if key.startswith("order:")]

    client.post(PAGE, {"once": once(page), "choices": order_only})

    assert (Transfer.objects.count(), PurchaseOrder.objects.count()) == (0, 1)


def test_nothing_ticked_is_refused_beside_the_boxes(manager, short):
    client = page_client(manager)
    page = client.get(PAGE)

    response = client.post(PAGE, {"once": once(page)})

    assert response.status_code == 400
    assertContains(response, "Tick at least one suggestion", status_code=400)
    assert ticked(response) == []


@pytest.mark.parametrize("choice", ["nonsense", "order:1", "x" * 200, "transfer:a:b"])
def test_a_mangled_choice_is_refused_in_words(manager, short, choice):
    client = page_client(manager)
    page = client.get(PAGE)

    response = client.post(PAGE, {"once": once(page), "choices": [choice]})

    assert response.status_code == 400
    assert PurchaseOrder.objects.count() == 0


def test_a_stale_page_is_shown_again_as_it_now_stands(manager, short, there):
    client = page_client(manager)
    page = client.get(PAGE)
    StockLevel.objects.filter(branch=there).update(on_hand=0)

    response = client.post(PAGE, {"once": once(page), "choices": ticked(page)})

    assert response.status_code == 409
    assertContains(response, "Stock has changed", status_code=409)
    assertNotContains(response, "from THERE", status_code=409)
    assert Transfer.objects.count() == 0


def test_nothing_to_do_says_so(manager):
    response = page_client(manager).get(PAGE)

    assertContains(response, "Nothing needs replenishing")
    assertNotContains(response, 'id="replenishment-apply"')


def test_staff_are_refused_in_words(here):
    staff = MembershipFactory(branch=here, role=Role.STAFF).user

    response = page_client(staff).get(PAGE)

    assert response.status_code == 403
    assertContains(response, "Only managers replenish stock", status_code=403)


def test_staff_may_not_post_either(here, short):
    staff = MembershipFactory(branch=here, role=Role.STAFF).user

    response = page_client(staff).post(PAGE, {"once": "k" * 32, "choices": ["order:x"]})

    assert response.status_code == 403
    assert PurchaseOrder.objects.count() == 0


def test_another_branch_is_not_found(manager, there):
    response = page_client(manager).get(PAGE, {"branch": there.code})

    assert response.status_code == 404


def test_an_unknown_branch_code_is_not_found(manager):
    response = page_client(manager).get(PAGE, {"branch": "../<script>"})

    assert response.status_code == 404


def test_an_admin_sees_every_branch_and_filters_by_one(short, here, there):
    client = page_client(AdminFactory())

    everything = client.get(PAGE)
    one = client.get(PAGE, {"branch": "there"})

    assertContains(everything, 'id="replenishment-branch"')
    assertContains(everything, 'id="replenish-HERE"')
    assertContains(one, "Replenishment of THERE")
    assertNotContains(one, 'id="replenish-HERE"')


def test_the_filter_answers_htmx_with_the_plan_alone(short):
    response = page_client(AdminFactory()).get(PAGE, {"branch": "HERE"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="replenishment-plan"')
    assert "<html" not in html
    assert '<h1 id="replenishment-title" hx-swap-oob="true">Replenishment of HERE</h1>' in html


def test_a_source_the_manager_may_not_see_shows_no_stock(manager, short):
    response = page_client(manager).get(PAGE)

    assertNotContains(response, "spare)")


def test_the_result_page_lists_only_what_the_reader_may_see(manager, here, there):
    other = Transfer.objects.create(
        from_branch=there,
        to_branch=BranchFactory(),
        kind="PULL",
        status="REQUESTED",
        requested_by=AdminFactory(),
    )

    response = page_client(manager).get(
        reverse("replenishment-done"), {"transfer": [str(other.pk), "not-a-uuid"]}
    )

    assert response.status_code == 200
    assertNotContains(response, other.reference)


@pytest.mark.parametrize("size", [1, 8])
def test_the_page_takes_the_same_queries_however_many_rows(manager, here, there, size):
    supplier = SupplierFactory()
    for product in ProductFactory.create_batch(size, low_stock_threshold=Decimal(5)):
        offered(supplier, product, preferred=True)
        StockLevel.objects.create(branch=here, product=product, on_hand=0)
        StockLevel.objects.create(branch=there, product=product, on_hand=15)  # 5 to spare
    client = page_client(manager)
    client.get(PAGE)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(PAGE)

    assert len(re.findall(r'name="choices"', response.content.decode())) == 2 * size
    assert len(queries) <= PAGE_QUERIES


# Session, user, the shell's counters, the reader's rights and the plan's own reads.
PAGE_QUERIES = 15


@pytest.mark.parametrize("size", [1, 6])
def test_the_result_page_takes_the_same_queries_however_many_drafts(manager, here, size):
    admin = AdminFactory()
    transfers = [
        Transfer.objects.create(
            from_branch=BranchFactory(),
            to_branch=here,
            kind="PULL",
            status="REQUESTED",
            requested_by=admin,
        )
        for _ in range(size)
    ]
    orders = PurchaseOrderFactory.create_batch(size, branch=here)
    client = page_client(manager)
    query = {"transfer": [str(t.pk) for t in transfers], "order": [str(o.pk) for o in orders]}
    client.get(reverse("replenishment-done"), query)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("replenishment-done"), query)

    for made in [*transfers, *orders]:
        assertContains(response, made.reference)
    assert len(queries) <= DONE_QUERIES


DONE_QUERIES = 8
