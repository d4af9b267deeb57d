"""The purchase order pages: the list (scoped, filtered, paged), drafting and editing an
order (service errors beside their fields, what was typed kept), one order's page with the
buttons ``available_steps`` gives its reader, receiving against it, the CSV, and no 500
whatever is typed."""

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
from transfers import purchasing
from transfers.models import (
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderStatus,
    PurchaseReceipt,
)
from transfers.tests.factories import (
    PurchaseOrderFactory,
    PurchaseOrderLineFactory,
    drafted_order,
    offered,
    on_hand,
    receipt_items,
    sent_order,
)

pytestmark = pytest.mark.django_db

LIST = reverse("purchase-orders")
NEW = reverse("purchase-order-new")


@pytest.fixture
def branch():
    return BranchFactory(code="BER-01")


@pytest.fixture
def manager(branch):
    return MembershipFactory(branch=branch, role=Role.MANAGER).user


@pytest.fixture
def staff(branch):
    return MembershipFactory(branch=branch, role=Role.STAFF).user


@pytest.fixture
def outsider():
    return MembershipFactory(branch=BranchFactory(code="HAM-01"), role=Role.MANAGER).user


@pytest.fixture
def supplier():
    return SupplierFactory(code="ACME", name="Acme Tools")


@pytest.fixture
def product(supplier):
    product = ProductFactory(sku="HAMMER-1", name="Claw hammer")
    offered(supplier, product, pack_size="6", price="4.2500", minimum="12")
    return product


@pytest.fixture
def draft(manager, branch, supplier, product):
    return drafted_order(manager, branch, supplier, (product, 12))


@pytest.fixture
def sent(manager, branch, supplier, product):
    return sent_order(manager, branch, supplier, (product, 12))


def detail(order):
    return reverse("purchase-order", args=[order.pk])


def step_url(order, step):
    return reverse("purchase-order-step", args=[order.pk, step])


def buttons(response) -> list[str]:
    return re.findall(r'id="step-(\w+)"', response.content.decode())


def once_key(response, form_id: str, name: str) -> str:
    html = response.content.decode()
    form = html[html.index(f'id="{form_id}"') :]
    return re.search(rf'name="{name}" value="(\w+)"', form).group(1)


def post_step(client, order, step, **fields):
    page = client.get(detail(order))
    data = {f"{step}-once": once_key(page, f"step-{step}", f"{step}-once")}
    data.update({f"{step}-{name}": value for name, value in fields.items()})
    return client.post(step_url(order, step), data)


def new_order_data(client, *lines, branch="BER-01", supplier="ACME", note=""):
    """The new order form as a browser posts it, with the key the page rendered."""
    page = client.get(NEW)
    data = {
        "once": once_key(page, "order-form", "once"),
        "branch": branch,
        "supplier": supplier,
        "note": note,
        "action": "save",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
    }
    for index, line in enumerate(lines):
        for name, value in zip(("product", "quantity", "unit_price"), line, strict=False):
            data[f"lines-{index}-{name}"] = value
    return data


# Who sees what ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["manager", "staff"])
def test_people_of_the_branch_see_its_order(request, draft, who):
    user = request.getfixturevalue(who)

    assertContains(page_client(user).get(detail(draft)), draft.reference)


def test_an_admin_sees_any_order(draft):
    assertContains(page_client(AdminFactory()).get(detail(draft)), draft.reference)


def test_another_branchs_manager_finds_no_order(draft, outsider):
    assert page_client(outsider).get(detail(draft)).status_code == 404


def test_another_branchs_manager_cannot_take_a_step(draft, outsider):
    response = page_client(outsider).post(step_url(draft, "send"), {"send-once": "k1"})

    assert response.status_code == 404
    assert PurchaseOrder.objects.get(pk=draft.pk).status == PurchaseOrderStatus.DRAFT


def test_another_branchs_manager_gets_no_csv(draft, outsider):
    url = reverse("purchase-order-csv", args=[draft.pk])

    assert page_client(outsider).get(url).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(draft, client):
    for url in (LIST, NEW, detail(draft), reverse("purchase-order-edit", args=[draft.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert "/account/sign-in/" in response["Location"]


def test_an_unknown_order_is_404(manager):
    url = reverse("purchase-order", args=["00000000-0000-0000-0000-000000000000"])

    assert page_client(manager).get(url).status_code == 404


def test_the_list_shows_only_orders_of_the_users_branches(draft, outsider, staff):
    assertNotContains(page_client(outsider).get(LIST), draft.reference)
    assertContains(page_client(staff).get(LIST), draft.reference)


def test_staff_are_refused_a_new_order_in_words(staff):
    response = page_client(staff).get(NEW)

    assertContains(response, "Only managers order stock", status_code=403)


# The list -----------------------------------------------------------------------------------


def test_the_list_shows_lines_total_and_supplier(manager, branch, supplier, product):
    other = ProductFactory()
    offered(supplier, other, price="1.5000")
    order = drafted_order(manager, branch, supplier, (product, 12), (other, 4))

    response = page_client(manager).get(LIST)

    html = response.content.decode()
    row = html[html.index(f'id="order-{order.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "ACME" in row
    assert re.search(r">\s*2\s*</td>", row)  # lines
    assert "57.00 EUR" in row  # 12 x 4.25 + 4 x 1.50


def test_the_list_filters_by_status(draft, sent, manager):
    response = page_client(manager).get(LIST, {"status": "SENT"})

    assertContains(response, sent.reference)
    assertNotContains(response, draft.reference)


def test_the_list_filters_by_supplier(draft, manager, branch, product):
    other = SupplierFactory(code="BOLT")
    theirs = drafted_order(manager, branch, other, (ProductFactory(), 3))

    response = page_client(manager).get(LIST, {"supplier": "bolt"})

    assertContains(response, theirs.reference)
    assertNotContains(response, draft.reference)


def test_the_list_searches_by_reference(draft, sent, manager):
    response = page_client(manager).get(LIST, {"q": sent.reference[-6:].lower()})

    assertContains(response, sent.reference)
    assertNotContains(response, draft.reference)


def test_the_list_answers_htmx_with_the_results_only(draft, manager):
    response = page_client(manager).get(LIST, headers={"HX-Request": "true"})

    assertContains(response, 'id="order-results"')
    assertNotContains(response, "<html")


def test_the_list_keeps_its_filters_in_the_next_pages_address(manager, branch, supplier):
    PurchaseOrderFactory.create_batch(51, branch=branch, supplier=supplier)

    response = page_client(manager).get(LIST, {"status": "DRAFT", "supplier": "ACME"})

    assertContains(response, "?status=DRAFT&amp;supplier=ACME&amp;page=2")


@pytest.mark.parametrize(
    "query",
    [
        {"page": "99999999999999999999"},
        {"page": "-3"},
        {"page": "NaN"},
        {"status": "LOST"},
        {"supplier": "x" * 500},
        {"q": "\x00"},
        {"branch": "NOPE"},
    ],
)
def test_the_list_never_fails_on_odd_parameters(manager, query):
    assert page_client(manager).get(LIST, query).status_code in (200, 404)


def test_the_list_reads_the_same_number_of_queries_for_1_and_10_orders(manager, branch, supplier):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert page_client(manager).get(LIST).status_code == 200
        return len(queries)

    PurchaseOrderLineFactory(order=PurchaseOrderFactory(branch=branch, supplier=supplier))
    one = count()
    for _ in range(9):
        order = PurchaseOrderFactory(branch=branch, supplier=SupplierFactory())
        PurchaseOrderLineFactory.create_batch(2, order=order)
    assert count() == one


# A new order --------------------------------------------------------------------------------


def test_a_manager_drafts_an_order(manager, product):
    client = page_client(manager)

    response = client.post(NEW, new_order_data(client, ("hammer-1", "18")))

    order = PurchaseOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail(order)
    assert order.status == PurchaseOrderStatus.DRAFT
    [line] = order.lines.all()
    assert (line.quantity_ordered, line.unit_price) == (Decimal("18"), Decimal("4.2500"))


def test_a_typed_unit_price_is_kept(manager, product):
    client = page_client(manager)

    client.post(NEW, new_order_data(client, ("HAMMER-1", "12", "3.99")))

    assert PurchaseOrder.objects.get().lines.get().unit_price == Decimal("3.99")


def test_the_same_form_posted_twice_drafts_one_order(manager, product):
    client = page_client(manager)
    data = new_order_data(client, ("HAMMER-1", "12"))

    client.post(NEW, data)
    client.post(NEW, data)

    assert PurchaseOrder.objects.count() == 1


def test_a_quantity_not_in_whole_packs_is_said_beside_that_line(manager, supplier, product):
    client = page_client(manager)
    offered(supplier, ProductFactory(sku="SAW-1"))

    response = client.post(NEW, new_order_data(client, ("SAW-1", "2"), ("HAMMER-1", "13")))

    assert response.status_code == 400
    html = response.content.decode()
    error = html[html.index('id="lines-1-quantity-error"') :]
    assert "6" in error[: error.index("</p>")]  # names the pack size
    assert 'value="13"' in html
    assert 'value="SAW-1"' in html
    assert not PurchaseOrder.objects.exists()


def test_a_product_the_supplier_does_not_sell_is_said_beside_it(manager, product):
    client = page_client(manager)
    ProductFactory(sku="GLUE-1")

    response = client.post(NEW, new_order_data(client, ("GLUE-1", "5")))

    assert response.status_code == 400
    assertContains(response, 'id="lines-0-product-error"', status_code=400)


@pytest.mark.parametrize(
    "quantity", ["abc", "-6", "0", "NaN", "1e999", "99999999999999999999999", "6.5", "Infinity"]
)
def test_a_bad_quantity_is_a_field_error_keeping_what_was_typed(manager, product, quantity):
    client = page_client(manager)

    response = client.post(NEW, new_order_data(client, ("HAMMER-1", quantity)))

    assert response.status_code == 400
    assertContains(response, 'id="lines-0-quantity-error"', status_code=400)
    assert not PurchaseOrder.objects.exists()


@pytest.mark.parametrize("price", ["free", "-1", "NaN", "1e999", "0.00001", "1" * 40])
def test_a_bad_unit_price_is_a_field_error(manager, product, price):
    client = page_client(manager)

    response = client.post(NEW, new_order_data(client, ("HAMMER-1", "12", price)))

    assert response.status_code == 400
    assertContains(response, 'id="lines-0-unit_price-error"', status_code=400)


def test_an_unknown_supplier_code_is_a_field_error(manager, product):
    client = page_client(manager)

    response = client.post(NEW, new_order_data(client, ("HAMMER-1", "12"), supplier="NOPE"))

    assertContains(response, 'id="order-supplier-error"', status_code=400)


def test_a_branch_where_the_user_may_not_order_is_refused(manager, product):
    BranchFactory(code="HAM-01")
    client = page_client(manager)

    response = client.post(NEW, new_order_data(client, ("HAMMER-1", "12"), branch="HAM-01"))

    assertContains(response, "You may not order stock for HAM-01", status_code=403)
    assert not PurchaseOrder.objects.exists()


def test_an_order_with_no_line_is_refused(manager, supplier):
    client = page_client(manager)

    response = client.post(NEW, new_order_data(client, ("", "")))

    assertContains(response, "at least one line", status_code=400)


def test_a_mangled_formset_is_refused_without_failing(manager, product):
    client = page_client(manager)
    data = new_order_data(client, ("HAMMER-1", "12"))
    data["lines-TOTAL_FORMS"] = "abc"

    assert client.post(NEW, data).status_code == 400


def test_the_address_fills_the_form_in_with_the_suppliers_price(manager, product):
    response = page_client(manager).get(
        NEW, {"branch": "ber-01", "supplier": "ACME", "product": "HAMMER-1", "quantity": "24"}
    )

    html = response.content.decode()
    assert 'value="HAMMER-1"' in html
    assert 'value="24"' in html
    assert 'name="lines-0-unit_price" value="4.25"' in html
    assert "packs of 6; at least 12" in html


def test_adding_a_line_keeps_what_was_typed(manager, product):
    client = page_client(manager)
    data = new_order_data(client, ("HAMMER-1", "12"), note="Before the fair")
    data["action"] = "add"

    response = client.post(NEW, data)

    html = response.content.decode()
    assert 'id="lines-1-product"' in html
    assert 'value="HAMMER-1"' in html
    assert "Before the fair" in html
    assert not PurchaseOrder.objects.exists()


# Editing a draft ----------------------------------------------------------------------------


def test_a_manager_edits_a_drafts_lines(draft, manager):
    client = page_client(manager)
    url = reverse("purchase-order-edit", args=[draft.pk])
    page = client.get(url)
    data = {
        "once": once_key(page, "order-form", "once"),
        "note": "Changed",
        "action": "save",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": "HAMMER-1",
        "lines-0-quantity": "24",
    }

    response = client.post(url, data)

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.note == "Changed"
    assert draft.lines.get().quantity_ordered == Decimal("24")


def test_a_sent_order_is_not_edited(sent, manager):
    response = page_client(manager).get(reverse("purchase-order-edit", args=[sent.pk]))

    assertContains(response, "only a draft is edited", status_code=409)


def test_staff_may_not_edit_a_draft(draft, staff):
    response = page_client(staff).get(reverse("purchase-order-edit", args=[draft.pk]))

    assert response.status_code == 403


# One order's steps --------------------------------------------------------------------------


def test_a_draft_offers_its_manager_send_and_cancel(draft, manager):
    response = page_client(manager).get(detail(draft))

    assert buttons(response) == ["send", "cancel"]
    assertContains(response, 'id="order-edit-link"')


def test_staff_see_no_step_on_a_draft(draft, staff):
    response = page_client(staff).get(detail(draft))

    assert buttons(response) == []
    assertNotContains(response, 'id="order-edit-link"')


def test_staff_see_the_receive_form_on_a_sent_order(sent, staff):
    assert buttons(page_client(staff).get(detail(sent))) == ["receive"]


def test_the_detail_shows_the_suppliers_email_and_lead_time(sent, manager, supplier):
    response = page_client(manager).get(detail(sent))

    assertContains(response, supplier.email)
    assertContains(response, "7 days")
    assertContains(response, "To be sent")


def test_sending_a_draft_sends_it(draft, manager):
    response = post_step(page_client(manager), draft, "send")

    assert response.status_code == 302
    assert PurchaseOrder.objects.get(pk=draft.pk).status == PurchaseOrderStatus.SENT


def test_a_supplier_without_email_is_refused_in_words_and_the_order_stays_a_draft(
    draft, manager, supplier
):
    supplier.email = ""
    supplier.save()

    response = post_step(page_client(manager), draft, "send")

    assertContains(response, "has no e-mail address", status_code=400)
    assert PurchaseOrder.objects.get(pk=draft.pk).status == PurchaseOrderStatus.DRAFT


def test_staff_may_not_send(draft, staff):
    response = page_client(staff).post(step_url(draft, "send"), {"send-once": "k1"})

    assert response.status_code == 403
    assert PurchaseOrder.objects.get(pk=draft.pk).status == PurchaseOrderStatus.DRAFT


def test_cancelling_keeps_the_reason(draft, manager):
    post_step(page_client(manager), draft, "cancel", reason="Found it cheaper")

    order = PurchaseOrder.objects.get(pk=draft.pk)
    assert order.status == PurchaseOrderStatus.CANCELLED
    assert order.events.last().note == "Found it cheaper"


def test_a_step_someone_else_took_first_says_so_and_shows_the_order_now(draft, manager):
    client = page_client(manager)
    page = client.get(detail(draft))
    key = once_key(page, "step-send", "send-once")
    purchasing.cancel_purchase_order(actor=manager, order_id=draft.pk)

    response = client.post(step_url(draft, "send"), {"send-once": key})

    assertContains(response, "Someone else acted first", status_code=409)
    assertContains(response, "cancelled", status_code=409)


def test_an_unknown_step_is_404(draft, manager):
    response = page_client(manager).post(step_url(draft, "explode"), {"explode-once": "k"})

    assert response.status_code == 404


def test_the_same_step_posted_twice_is_recorded_once(sent, staff, branch, product):
    client = page_client(staff)
    page = client.get(detail(sent))
    data = {
        "receive-once": once_key(page, "step-receive", "receive-once"),
        f"receive-{product.pk}-quantity": "6",
        f"receive-{product.pk}-unit_cost": "4.25",
    }

    client.post(step_url(sent, "receive"), data)
    second = client.post(step_url(sent, "receive"), data, follow=True)

    assertContains(second, "Already done")
    assert on_hand(branch, product) == Decimal("6")
    assert PurchaseReceipt.objects.count() == 1


# Receiving ----------------------------------------------------------------------------------


def test_staff_receive_part_of_an_order(sent, staff, branch, product):
    response = post_step(
        page_client(staff),
        sent,
        "receive",
        **{f"{product.pk}-quantity": "6", f"{product.pk}-unit_cost": "4.1"},
    )

    assert response.status_code == 302
    order = PurchaseOrder.objects.get(pk=sent.pk)
    assert order.status == PurchaseOrderStatus.PARTIALLY_RECEIVED
    assert on_hand(branch, product) == Decimal("6")
    assert PurchaseReceipt.objects.get().unit_cost == Decimal("4.1")


def test_receive_everything_takes_what_is_outstanding_whatever_was_typed(
    sent, staff, branch, product
):
    purchasing.receive_purchase_order(
        actor=staff, order_id=sent.pk, items=receipt_items((product, 5))
    )

    response = post_step(
        page_client(staff),
        sent,
        "receive",
        everything="1",
        **{f"{product.pk}-quantity": "oops", f"{product.pk}-unit_cost": "4.25"},
    )

    assert response.status_code == 302
    assert PurchaseOrder.objects.get(pk=sent.pk).status == PurchaseOrderStatus.RECEIVED
    assert on_hand(branch, product) == Decimal("12")


def test_receiving_beyond_the_tolerance_without_a_reason_is_said_beside_the_line(
    sent, staff, product
):
    response = post_step(page_client(staff), sent, "receive", **{f"{product.pk}-quantity": "20"})

    assertContains(response, f'id="id_receive-{product.pk}-reason-error"', status_code=400)
    assertContains(response, 'value="20"', status_code=400)
    assert not PurchaseReceipt.objects.exists()


def test_receiving_beyond_the_tolerance_with_a_reason_is_recorded(sent, staff, product):
    post_step(
        page_client(staff),
        sent,
        "receive",
        **{f"{product.pk}-quantity": "20", f"{product.pk}-reason": "Bonus pack"},
    )

    assert PurchaseReceipt.objects.get().reason == "Bonus pack"


@pytest.mark.parametrize("quantity", ["abc", "-1", "NaN", "1e999", "2.5", "9" * 30])
def test_a_bad_received_quantity_is_a_field_error(sent, staff, product, quantity):
    response = post_step(
        page_client(staff), sent, "receive", **{f"{product.pk}-quantity": quantity}
    )

    assertContains(response, f'id="id_receive-{product.pk}-quantity-error"', status_code=400)
    assert not PurchaseReceipt.objects.exists()


def test_nothing_received_is_refused(sent, staff, product):
    response = post_step(page_client(staff), sent, "receive", **{f"{product.pk}-quantity": "0"})

    assertContains(response, "at least one line", status_code=400)


def test_a_cancelled_order_takes_no_receipts(sent, manager, staff, product):
    client = page_client(staff)
    page = client.get(detail(sent))
    key = once_key(page, "step-receive", "receive-once")
    purchasing.cancel_purchase_order(actor=manager, order_id=sent.pk)

    response = client.post(
        step_url(sent, "receive"), {"receive-once": key, f"receive-{product.pk}-quantity": "6"}
    )

    assertContains(response, "Someone else acted first", status_code=409)
    assert not PurchaseReceipt.objects.exists()


def test_closing_short_needs_a_reason(sent, manager, staff, product):
    purchasing.receive_purchase_order(
        actor=staff, order_id=sent.pk, items=receipt_items((product, 6))
    )

    response = post_step(page_client(manager), sent, "close", reason="")

    assert response.status_code == 400
    assert PurchaseOrder.objects.get(pk=sent.pk).status == PurchaseOrderStatus.PARTIALLY_RECEIVED


def test_closing_short_with_a_reason_closes(sent, manager, staff, product):
    purchasing.receive_purchase_order(
        actor=staff, order_id=sent.pk, items=receipt_items((product, 6))
    )

    post_step(page_client(manager), sent, "close", reason="Discontinued")

    order = PurchaseOrder.objects.get(pk=sent.pk)
    assert (order.status, order.short_reason) == (PurchaseOrderStatus.RECEIVED, "Discontinued")


def test_the_detail_lists_receipts_and_history(sent, staff, product):
    purchasing.receive_purchase_order(
        actor=staff, order_id=sent.pk, items=receipt_items((product, 6, "4.0"))
    )

    response = page_client(staff).get(detail(sent))

    assertContains(response, 'id="order-receipts"')
    assertContains(response, "4 EUR")
    assert PurchaseOrderEvent.objects.filter(order=sent).count() == 3
    assert response.content.decode().count("<li><strong>") == 3


def test_the_detail_answers_htmx_with_the_partial(sent, manager):
    response = page_client(manager).get(detail(sent), headers={"HX-Request": "true"})

    assertContains(response, 'id="order-detail"')
    assertNotContains(response, "<html")


def test_the_detail_reads_the_same_number_of_queries_for_1_and_10_lines(
    manager, staff, branch, supplier
):
    products = [ProductFactory() for _ in range(10)]
    for each in products:
        offered(supplier, each)
    one = sent_order(manager, branch, supplier, (products[0], 2))
    ten = sent_order(manager, branch, supplier, *[(each, 2) for each in products])
    for order in (one, ten):
        purchasing.receive_purchase_order(
            actor=staff,
            order_id=order.pk,
            items=receipt_items(*[(line.product, 1) for line in order.lines.all()]),
        )
    client = page_client(staff)

    def count(order) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(detail(order)).status_code == 200
        return len(queries)

    assert count(ten) == count(one)


def test_the_csv_is_the_suppliers_file(sent, manager):
    response = page_client(manager).get(reverse("purchase-order-csv", args=[sent.pk]))

    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="{sent.reference}.csv"' in response["Content-Disposition"]
    assert "HAMMER-1" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/purchase-orders/not-a-uuid/",
        "/purchase-orders/00000000-0000-0000-0000-00000000000g/edit/",
        "/purchase-orders/123/order.csv",
    ],
)
def test_malformed_ids_are_404(manager, url):
    assert page_client(manager).get(url).status_code == 404


def test_the_supplier_filter_offers_only_suppliers_of_visible_orders(draft, staff):
    SupplierFactory(code="SECRET")

    response = page_client(staff).get(LIST)

    assertContains(response, 'value="ACME"')
    assertNotContains(response, "SECRET")


def test_the_list_and_the_order_follow_live_events_of_their_branch(draft, manager, branch):
    listing = page_client(manager).get(LIST, {"branch": "BER-01"})
    order = page_client(manager).get(detail(draft))

    for response in (listing, order):
        assertContains(response, 'data-live-on="purchase_order.updated"')
        assertContains(response, f'data-live-branch="{branch.pk}"')


@pytest.mark.parametrize(
    "fields",
    [
        {"reason": "x" * 5000},
        {"reason": "\x00"},
        {"once": ""},
        {"once": "k" * 500},
    ],
)
def test_a_hostile_cancel_form_is_refused_without_failing(draft, manager, fields):
    client = page_client(manager)
    page = client.get(detail(draft))
    data = {"cancel-once": once_key(page, "step-cancel", "cancel-once")}
    data.update({f"cancel-{name}": value for name, value in fields.items()})

    response = client.post(step_url(draft, "cancel"), data)

    assert response.status_code == 400
    assert PurchaseOrder.objects.get(pk=draft.pk).status == PurchaseOrderStatus.DRAFT


@pytest.mark.parametrize("cost", ["cheap", "-1", "NaN", "1e999", "0.00001"])
def test_a_bad_unit_cost_is_said_beside_its_line(sent, staff, product, cost):
    response = post_step(
        page_client(staff),
        sent,
        "receive",
        **{f"{product.pk}-quantity": "6", f"{product.pk}-unit_cost": cost},
    )

    assertContains(response, f'id="id_receive-{product.pk}-unit_cost-error"', status_code=400)
    assert not PurchaseReceipt.objects.exists()


def test_receiving_unknown_fields_and_a_huge_formset_is_refused_without_failing(manager, product):
    client = page_client(manager)
    data = new_order_data(client, ("HAMMER-1", "12"))
    data.update({"lines-TOTAL_FORMS": "100000", "surprise": "1", "lines-0-colour": "red"})

    response = client.post(NEW, data)

    assert response.status_code == 400
    assert not PurchaseOrder.objects.exists()


def test_adding_a_line_to_a_draft_being_edited_keeps_its_lines(draft, manager):
    client = page_client(manager)
    url = reverse("purchase-order-edit", args=[draft.pk])
    page = client.get(url)
    data = {
        "once": once_key(page, "order-form", "once"),
        "action": "add",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": "HAMMER-1",
        "lines-0-quantity": "30",
    }

    response = client.post(url, data, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert 'id="lines-1-product"' in html
    assert 'value="30"' in html
    assert "<html" not in html
    assert draft.lines.get().quantity_ordered == Decimal("12")


# Search as you type -------------------------------------------------------------------------

OPTIONS = reverse("purchase-order-products")


def test_the_search_offers_the_suppliers_products_with_their_pack(manager, product):
    response = page_client(manager).get(OPTIONS, {"supplier": "acme", "lines-0-product": "claw"})

    assertContains(response, 'value="HAMMER-1"')
    assertContains(response, "packs of 6")


def test_the_search_finds_a_product_by_the_suppliers_sku(manager, supplier, product):
    theirs = supplier.products.get().supplier_sku

    response = page_client(manager).get(OPTIONS, {"supplier": "ACME", "q": theirs})

    assertContains(response, 'value="HAMMER-1"')


def test_the_search_shows_staff_no_supplier_terms(staff, product):
    response = page_client(staff).get(OPTIONS, {"supplier": "ACME", "q": "claw"})

    assertContains(response, 'value="HAMMER-1"')
    assertNotContains(response, "packs of")


@pytest.mark.parametrize("query", [{"q": "c"}, {"q": "\x00" * 500}, {"supplier": "?" * 900}, {}])
def test_the_search_never_fails(manager, product, query):
    assert page_client(manager).get(OPTIONS, query).status_code == 200


def test_a_nul_in_a_lines_product_is_a_field_error_not_a_failure(manager, product):
    client = page_client(manager)

    response = client.post(NEW, new_order_data(client, ("HAM\x00MER-1", "12")))

    assert response.status_code == 400


def test_a_nul_in_the_address_fills_nothing_in_without_failing(manager, product):
    response = page_client(manager).get(NEW, {"product": "\x00", "supplier": "\x00"})

    assert response.status_code == 200


def test_saving_a_draft_someone_sent_meanwhile_says_so(draft, manager):
    client = page_client(manager)
    url = reverse("purchase-order-edit", args=[draft.pk])
    page = client.get(url)
    data = {
        "once": once_key(page, "order-form", "once"),
        "action": "save",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": "HAMMER-1",
        "lines-0-quantity": "24",
    }
    purchasing.send_purchase_order(actor=manager, order_id=draft.pk)

    response = client.post(url, data)

    assert response.status_code == 409
    assert draft.lines.get().quantity_ordered == Decimal("12")


def test_the_order_form_reads_the_same_number_of_queries_for_1_and_10_lines(
    manager, supplier, product
):
    products = [ProductFactory() for _ in range(10)]
    for each in products:
        offered(supplier, each)
    client = page_client(manager)

    def count(lines) -> int:
        data = new_order_data(client, *[(each.sku, "3") for each in lines])
        data["action"] = "redraw"
        with CaptureQueriesContext(connection) as queries:
            assert client.post(NEW, data).status_code == 200
        return len(queries)

    assert count(products) == count(products[:1])
