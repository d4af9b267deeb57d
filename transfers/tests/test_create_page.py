"""The page that starts a transfer (/transfers/new/): a request or a send with lines typed
by SKU, what the source holds shown only to who may see it, warnings before sending more
than it holds, errors beside the field that keep what was typed, and one transfer however
often the form is sent."""

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
from catalog.models import Unit
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import page_client
from transfers.models import Transfer, TransferKind, TransferStatus
from transfers.tests.factories import stocked

pytestmark = pytest.mark.django_db

NEW = reverse("transfer-new")
PRODUCTS = reverse("transfer-products")
LINE_STOCK = reverse("transfer-line-stock")


@pytest.fixture
def product(source):
    product = ProductFactory(sku="OAT-1", name="Oat milk", barcode="4006381333931")
    stocked(source, product, 50)
    return product


@pytest.fixture
def both_ends_manager(source, destination):
    """A manager of both branches: they see what the source holds."""
    user = MembershipFactory(branch=source, role=Role.MANAGER).user
    MembershipFactory(user=user, branch=destination, role=Role.MANAGER)
    return user


def once_key(response) -> str:
    return re.search(r'name="once" value="(\w+)"', response.content.decode()).group(1)


def posted(client, *, kind="request", source, destination, lines, **extra):
    """The create form as a browser sends it: the key the page drew, the lines typed."""
    page = client.get(NEW)
    data = {
        "once": once_key(page),
        "kind": kind,
        "from": source.code,
        "to": destination.code,
        "note": "",
        "action": "create",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
    }
    for index, (code, quantity) in enumerate(lines):
        data[f"lines-{index}-product"] = code
        data[f"lines-{index}-quantity"] = quantity
    data.update(extra)
    return data


def create(client, **kwargs):
    data = posted(client, **kwargs)
    return client.post(NEW, data), data


# Who may start one ---------------------------------------------------------------------------


def test_a_manager_requests_goods_from_another_branch(
    destination_manager, source, destination, product
):
    response, _ = create(
        page_client(destination_manager),
        source=source,
        destination=destination,
        lines=[("OAT-1", "5")],
    )

    transfer = Transfer.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("transfer", args=[transfer.pk])
    assert (transfer.kind, transfer.status) == (TransferKind.PULL, TransferStatus.REQUESTED)
    assert (transfer.from_branch, transfer.to_branch) == (source, destination)
    assert [(line.product, line.requested) for line in transfer.lines.all()] == [
        (product, Decimal(5))
    ]


def test_a_manager_sends_goods_to_another_branch(source_manager, source, destination, product):
    create(
        page_client(source_manager),
        kind="send",
        source=source,
        destination=destination,
        lines=[("oat-1", "5")],
    )

    transfer = Transfer.objects.get()
    assert (transfer.kind, transfer.status) == (TransferKind.PUSH, TransferStatus.APPROVED)


def test_staff_may_not_start_a_transfer(destination_staff):
    response = page_client(destination_staff).get(NEW)

    assert response.status_code == 403


def test_the_list_offers_a_new_transfer_to_managers_only(destination_manager, destination_staff):
    listed = reverse("transfers")

    assertContains(page_client(destination_manager).get(listed), 'id="transfer-new-link"')
    assertNotContains(page_client(destination_staff).get(listed), "transfer-new-link")


def test_a_request_into_a_branch_the_user_does_not_manage_is_refused_beside_the_field(
    destination_manager, source, destination, product
):
    elsewhere = BranchFactory()

    response, _ = create(
        page_client(destination_manager),
        source=source,
        destination=elsewhere,
        lines=[("OAT-1", "5")],
    )

    assert response.status_code == 403
    assertContains(
        response, f"You may not request transfers into {elsewhere.code}.", status_code=403
    )
    assert not Transfer.objects.exists()


def test_a_send_out_of_a_branch_the_user_does_not_manage_is_refused(
    destination_manager, source, destination, product
):
    response, _ = create(
        page_client(destination_manager),
        kind="send",
        source=source,
        destination=destination,
        lines=[("OAT-1", "5")],
    )

    assertContains(response, f"You may not send transfers out of {source.code}.", status_code=403)
    assert not Transfer.objects.exists()


def test_an_inactive_branch_is_not_offered_nor_accepted(destination_manager, destination, product):
    closed = BranchFactory(is_active=False)
    client = page_client(destination_manager)

    assertNotContains(client.get(NEW), f'value="{closed.code}"')
    response, _ = create(client, source=closed, destination=destination, lines=[("OAT-1", "1")])

    assert response.status_code == 400
    assert not Transfer.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(NEW)

    assert response.status_code == 302
    assert reverse("login") in response.url


# Filled in from the address ------------------------------------------------------------------


def test_the_reports_link_fills_the_form_in(destination_manager, source, destination, product):
    response = page_client(destination_manager).get(
        NEW,
        {
            "kind": "request",
            "from": source.code,
            "to": destination.code,
            "product": "OAT-1",
            "quantity": "12",
        },
    )

    html = response.content.decode()
    assert 'id="transfer-kind-request" value="request" checked' in html
    assert f'<option value="{source.code}" selected>' in html
    assert f'<option value="{destination.code}" selected>' in html
    assert 'name="lines-0-product" value="OAT-1"' in html
    assert 'name="lines-0-quantity" value="12"' in html
    assertContains(response, "Oat milk")


def test_a_prefilled_address_in_lower_case_still_chooses_the_branches(
    destination_manager, source, destination, product
):
    response = page_client(destination_manager).get(
        NEW, {"from": source.code.lower(), "to": destination.code.lower()}
    )

    assertContains(response, f'<option value="{source.code}" selected>')
    assertContains(response, f'<option value="{destination.code}" selected>')


def test_without_an_address_the_users_branch_receives_a_request(destination_manager, destination):
    response = page_client(destination_manager).get(NEW)

    assertContains(response, f'<option value="{destination.code}" selected>')
    assertContains(response, 'id="transfer-kind-request" value="request" checked')


def test_a_prefill_that_does_not_parse_still_answers_the_form(destination_manager):
    response = page_client(destination_manager).get(
        NEW, {"kind": "steal", "from": "NOPE", "quantity": "lots", "product": "x" * 500}
    )

    assert response.status_code == 200


# Errors beside their field, keeping what was typed ------------------------------------------


def test_an_unknown_sku_is_an_error_beside_it_keeping_the_typed_lines(
    destination_manager, source, destination, product
):
    response, _ = create(
        page_client(destination_manager),
        source=source,
        destination=destination,
        lines=[("OAT-1", "5"), ("NO-SUCH", "2")],
    )

    assert response.status_code == 400
    assertContains(response, "No product with the SKU or barcode NO-SUCH.", status_code=400)
    assertContains(response, 'name="lines-0-product" value="OAT-1"', status_code=400)
    assertContains(response, 'name="lines-1-quantity" value="2"', status_code=400)
    assert not Transfer.objects.exists()


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "Quantity must be greater than zero."),
        ("-3", "Quantity must be greater than zero."),
        ("2.5", "must be a whole number of pieces"),
        ("lots", "Quantity must be a number"),
        ("", "Enter a quantity."),
    ],
)
def test_a_quantity_that_does_not_fit_is_an_error_beside_it(
    destination_manager, source, destination, product, quantity, message
):
    response, _ = create(
        page_client(destination_manager),
        source=source,
        destination=destination,
        lines=[("OAT-1", quantity)],
    )

    assertContains(response, message, status_code=400)
    assertContains(response, 'id="lines-0-quantity-error"', status_code=400)
    assert not Transfer.objects.exists()


def test_a_fraction_of_a_weighed_product_is_accepted(destination_manager, source, destination):
    ProductFactory(sku="FLOUR", unit=Unit.KILOGRAM)

    create(
        page_client(destination_manager),
        source=source,
        destination=destination,
        lines=[("FLOUR", "2.5")],
    )

    assert Transfer.objects.get().lines.get().requested == Decimal("2.5")


def test_one_product_on_two_lines_is_refused_on_the_second(
    destination_manager, source, destination, product
):
    response, _ = create(
        page_client(destination_manager),
        source=source,
        destination=destination,
        lines=[("OAT-1", "5"), ("4006381333931", "2")],
    )

    assertContains(response, "Line 1 is for the same product", status_code=400)
    assertContains(response, 'id="lines-1-product-error"', status_code=400)
    assert not Transfer.objects.exists()


def test_the_same_branch_at_both_ends_is_refused(destination_manager, destination, product):
    response, _ = create(
        page_client(destination_manager),
        source=destination,
        destination=destination,
        lines=[("OAT-1", "5")],
    )

    assertContains(response, "A transfer needs two different branches.", status_code=400)
    assert not Transfer.objects.exists()


def test_a_form_without_lines_says_one_is_needed(destination_manager, source, destination):
    response, _ = create(
        page_client(destination_manager), source=source, destination=destination, lines=[]
    )

    assertContains(response, "A transfer needs at least one line", status_code=400)


def test_blank_rows_are_left_out(destination_manager, source, destination, product):
    create(
        page_client(destination_manager),
        source=source,
        destination=destination,
        lines=[("", ""), ("OAT-1", "3"), ("", "")],
    )

    assert Transfer.objects.get().lines.count() == 1


def test_an_inactive_product_is_refused_beside_it(destination_manager, source, destination):
    ProductFactory(sku="OLD-1", is_active=False)

    response, _ = create(
        page_client(destination_manager),
        source=source,
        destination=destination,
        lines=[("OLD-1", "1")],
    )

    assertContains(response, "Product OLD-1 is inactive", status_code=400)


def test_a_tampered_number_of_rows_is_an_error_not_a_crash(
    destination_manager, source, destination, product
):
    client = page_client(destination_manager)
    data = posted(client, source=source, destination=destination, lines=[("OAT-1", "1")])
    data["lines-TOTAL_FORMS"] = "100000"

    response = client.post(NEW, data)

    assert response.status_code == 400


def test_a_form_without_its_management_fields_is_an_error_not_a_crash(
    destination_manager, source, destination
):
    client = page_client(destination_manager)

    response = client.post(NEW, {"once": "k1", "kind": "request", "action": "create"})

    assert response.status_code == 400
    assert not Transfer.objects.exists()


# Lines added --------------------------------------------------------------------------------


def test_add_a_line_draws_the_form_again_with_one_more_row_and_what_was_typed(
    destination_manager, source, destination, product
):
    client = page_client(destination_manager)
    data = posted(client, source=source, destination=destination, lines=[("OAT-1", "5")])
    data["action"] = "add"

    response = client.post(NEW, data)

    assert response.status_code == 200
    assertContains(response, 'name="lines-0-product" value="OAT-1"')
    assertContains(response, 'name="lines-1-product"')
    assertContains(response, f'name="once" value="{data["once"]}"')
    assert not Transfer.objects.exists()


def test_add_a_line_by_htmx_answers_the_form_alone(
    destination_manager, source, destination, product
):
    client = page_client(destination_manager)
    data = posted(client, source=source, destination=destination, lines=[("OAT-1", "5")])
    data["action"] = "add"

    response = client.post(NEW, data, headers={"HX-Request": "true"})

    assertContains(response, 'id="transfer-form"')
    assertContains(response, 'name="lines-1-product" value="" ')
    assertNotContains(response, "<main")


# Once ---------------------------------------------------------------------------------------


def test_sending_the_form_twice_starts_one_transfer(
    destination_manager, source, destination, product
):
    client = page_client(destination_manager)
    first, data = create(client, source=source, destination=destination, lines=[("OAT-1", "5")])
    again = client.post(NEW, data)

    assert Transfer.objects.count() == 1
    assert again.status_code == 302
    assert again.url == first.url


def test_a_corrected_form_still_acts_once(destination_manager, source, destination, product):
    client = page_client(destination_manager)
    data = posted(client, source=source, destination=destination, lines=[("OAT-1", "0")])
    assert client.post(NEW, data).status_code == 400
    data["lines-0-quantity"] = "4"

    client.post(NEW, data)
    client.post(NEW, data)

    assert Transfer.objects.get().lines.get().requested == 4


# What the source holds ------------------------------------------------------------------------


def test_a_manager_of_both_ends_sees_what_the_source_holds(
    both_ends_manager, source, destination, product
):
    response = page_client(both_ends_manager).get(
        NEW, {"from": source.code, "to": destination.code, "product": "OAT-1"}
    )

    assertContains(response, "50 pcs")


def test_what_the_source_holds_is_not_shown_to_who_may_not_see_it(
    destination_manager, source, destination, product
):
    response = page_client(destination_manager).get(
        NEW, {"from": source.code, "to": destination.code, "product": "OAT-1"}
    )

    assertNotContains(response, "50 pcs")
    assertContains(response, f"You do not see {source.code}")


def test_a_request_for_more_than_the_source_holds_is_warned_about_and_made(
    both_ends_manager, source, destination, product
):
    client = page_client(both_ends_manager)
    page = client.get(
        NEW,
        {"from": source.code, "to": destination.code, "product": "OAT-1", "quantity": "80"},
    )
    assertContains(page, f"{source.code} holds only 50 pieces.")

    create(client, source=source, destination=destination, lines=[("OAT-1", "80")])

    assert Transfer.objects.get().status == TransferStatus.REQUESTED


def test_a_send_of_more_than_the_source_holds_asks_to_confirm(
    both_ends_manager, source, destination, product
):
    client = page_client(both_ends_manager)
    response, data = create(
        client, kind="send", source=source, destination=destination, lines=[("OAT-1", "80")]
    )

    assert response.status_code == 200
    assertContains(response, 'id="transfer-confirm"')
    assertContains(response, f"{source.code} holds only 50 pieces.")
    assert not Transfer.objects.exists()

    confirmed = client.post(NEW, {**data, "confirm": "1"})

    assert confirmed.status_code == 302
    assert Transfer.objects.get().status == TransferStatus.APPROVED


def test_a_send_within_what_the_source_holds_asks_nothing(
    source_manager, source, destination, product
):
    response, _ = create(
        page_client(source_manager),
        kind="send",
        source=source,
        destination=destination,
        lines=[("OAT-1", "50")],
    )

    assert response.status_code == 302


def test_a_rows_cell_says_what_the_source_holds_and_warns(both_ends_manager, source, product):
    response = page_client(both_ends_manager).get(
        LINE_STOCK,
        {"line": "2", "from": source.code, "lines-2-product": "OAT-1", "lines-2-quantity": "51"},
    )

    assertContains(response, "50 pcs")
    assertContains(response, "holds only 50 pieces")


def test_a_rows_cell_shows_nothing_of_a_branch_the_user_may_not_see(
    destination_manager, source, product
):
    response = page_client(destination_manager).get(
        LINE_STOCK,
        {"line": "0", "from": source.code, "lines-0-product": "OAT-1", "lines-0-quantity": "51"},
    )

    assertNotContains(response, "50")
    assertNotContains(response, "holds only")


@pytest.mark.parametrize("line", ["", "x", "-1", "99999"])
def test_a_rows_cell_for_no_such_row_is_404(destination_manager, line):
    assert page_client(destination_manager).get(LINE_STOCK, {"line": line}).status_code == 404


# Search as you type ---------------------------------------------------------------------------


def test_the_search_offers_products_by_sku_name_or_barcode(destination_manager, product):
    client = page_client(destination_manager)

    for text in ("oat-", "milk", "40063813"):
        assertContains(client.get(PRODUCTS, {"q": text}), 'value="OAT-1"')


def test_the_search_reads_the_rows_own_field(destination_manager, product):
    response = page_client(destination_manager).get(PRODUCTS, {"lines-3-product": "Oat"})

    assertContains(response, 'value="OAT-1"')


def test_the_search_offers_at_most_ten_products(destination_manager):
    for _ in range(15):
        ProductFactory(name="Rye bread")

    response = page_client(destination_manager).get(PRODUCTS, {"q": "rye"})

    assert response.content.decode().count("<option") == 10


def test_the_search_leaves_out_inactive_products(destination_manager):
    ProductFactory(sku="GONE-1", name="Gone", is_active=False)

    assertNotContains(page_client(destination_manager).get(PRODUCTS, {"q": "gone"}), "GONE-1")


def test_the_search_wants_two_characters(destination_manager, product):
    assertNotContains(page_client(destination_manager).get(PRODUCTS, {"q": "o"}), "<option")


def test_the_search_shows_what_the_source_holds_to_who_may_see_it(
    both_ends_manager, source, product
):
    response = page_client(both_ends_manager).get(PRODUCTS, {"q": "oat", "from": source.code})

    assertContains(response, f"50 pcs at {source.code}")


def test_the_search_never_shows_what_another_branch_holds(destination_manager, source, product):
    response = page_client(destination_manager).get(PRODUCTS, {"q": "oat", "from": source.code})

    assertContains(response, 'value="OAT-1"')
    assertNotContains(response, "50")


def test_the_search_takes_a_nul_character_as_nothing(destination_manager, source, product):
    # PostgreSQL cannot compare text with a NUL in it; the search drops it.
    response = page_client(destination_manager).get(PRODUCTS, {"q": "oa\x00t", "from": source.code})

    assertContains(response, 'value="OAT-1"')


def test_a_prefilled_product_with_a_nul_character_fills_nothing_in(destination_manager, product):
    response = page_client(destination_manager).get(NEW, {"product": "\x00"})

    assert response.status_code == 200
    assertNotContains(response, "OAT-1")


def test_the_search_costs_the_same_queries_however_many_products_match(both_ends_manager, source):
    client = page_client(both_ends_manager)
    ProductFactory(name="Spelt flour")
    few = queries(client, PRODUCTS, {"q": "spelt", "from": source.code})
    for _ in range(12):
        stocked(source, ProductFactory(name="Spelt flour"), 3)

    assert queries(client, PRODUCTS, {"q": "spelt", "from": source.code}) == few


# Queries ------------------------------------------------------------------------------------


def queries(client, url, params=None) -> int:
    client.get(url, params)  # the session and the like, once
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


def posted_queries(client, data) -> int:
    with CaptureQueriesContext(connection) as captured:
        client.post(NEW, data)
    return len(captured)


def test_sending_the_form_costs_the_same_queries_for_one_line_or_twenty(
    both_ends_manager, source, destination
):
    client = page_client(both_ends_manager)
    products = [ProductFactory() for _ in range(20)]
    for each in products:
        stocked(source, each, 10)
    one = posted(client, source=source, destination=destination, lines=[(products[0].sku, "1")])
    twenty = posted(
        client, source=source, destination=destination, lines=[(p.sku, "1") for p in products]
    )

    assert posted_queries(client, one) == posted_queries(client, twenty)
    assert Transfer.objects.count() == 2


def test_a_refused_form_costs_the_same_queries_for_one_line_or_twenty(
    both_ends_manager, source, destination
):
    client = page_client(both_ends_manager)
    products = [ProductFactory() for _ in range(20)]
    one = posted(client, source=source, destination=destination, lines=[(products[0].sku, "0")])
    twenty = posted(
        client, source=source, destination=destination, lines=[(p.sku, "0") for p in products]
    )

    assert posted_queries(client, one) == posted_queries(client, twenty)


def test_an_admin_may_start_a_transfer_between_any_two_branches(source, destination, product):
    response, _ = create(
        page_client(AdminFactory()), source=source, destination=destination, lines=[("OAT-1", "2")]
    )

    assert response.status_code == 302
    assert Transfer.objects.get().requested_by.is_superuser


def test_choosing_send_puts_the_users_branch_at_the_sending_end(
    destination_manager, source, destination
):
    client = page_client(destination_manager)
    data = posted(client, source=source, destination=destination, lines=[("OAT-1", "2")])
    data.update(kind="send", action="switch")

    response = client.post(NEW, data, headers={"HX-Request": "true"})

    html = response.content.decode()
    chosen_from = html[html.index('id="transfer-from"') : html.index('id="transfer-to"')]
    assert f'<option value="{destination.code}" selected>' in chosen_from
    assertContains(response, 'name="lines-0-product" value="OAT-1"')
    assert not Transfer.objects.exists()
