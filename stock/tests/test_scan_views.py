"""The scan page: a code finds a product at one branch, a quantity receives or issues it, and
what was recorded this session can be undone by the opposite movement."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.kernel.once import new_key
from inventory_project.tests.helpers import page_client
from stock import services
from stock.models import MovementKind, StockLevel, StockMovement

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def oat(db):
    return ProductFactory(name="Oat milk", sku="OAT-1L", barcode="4006381333931")


def scan_url(branch=None, **params) -> str:
    query = {"branch": branch.code} if branch is not None else {}
    query.update(params)
    url = reverse("scan")
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def record_url(branch) -> str:
    return f"{reverse('scan-record')}?branch={branch.code}"


def undo_url(branch) -> str:
    return f"{reverse('scan-undo')}?branch={branch.code}"


def record(client, branch, product, quantity="1", action=None, key=None, **extra):
    data = {"once": key or new_key(), "product": str(product.pk), "quantity": quantity}
    if action:
        data["action"] = action
    return client.post(record_url(branch), data, **extra)


def on_hand(branch, product) -> Decimal:
    level = StockLevel.objects.filter(branch=branch, product=product).first()
    return level.on_hand if level else Decimal("0")


def movements(branch, product) -> list[tuple[str, Decimal]]:
    return list(
        StockMovement.objects.filter(branch=branch, product=product)
        .order_by("created_at", "version")
        .values_list("kind", "delta")
    )


# Finding a product ------------------------------------------------------------------------


def test_the_page_opens_with_a_big_autofocused_code_field(staff, branch):
    response = page_client(staff).get(scan_url(branch))

    assert response.status_code == 200
    assertContains(response, 'id="scan-code"')
    assertContains(response, "autofocus")
    assertContains(response, "Nothing recorded yet")


def test_someone_of_one_branch_scans_there_without_choosing(staff, branch):
    response = page_client(staff).get(reverse("scan"))

    assertContains(response, f"Scan at {branch.code}")


def test_someone_of_several_branches_is_asked_which_first(staff, branch):
    other = BranchFactory(code="HAM-02")
    MembershipFactory(user=staff, branch=other, role=Role.STAFF)

    response = page_client(staff).get(reverse("scan"))

    assertContains(response, "Which branch are you at?")
    assertContains(response, f"?branch={branch.code}")
    assertContains(response, "?branch=HAM-02")
    assertNotContains(response, 'id="scan-code"')


@pytest.mark.parametrize(
    "code", ["4006381333931", "OAT-1L", "oat-1l"], ids=["barcode", "sku", "case"]
)
def test_a_code_finds_the_product_with_its_stock_here(actor, staff, branch, oat, code):
    services.receive_stock(actor=actor, branch_id=branch.pk, product_id=oat.pk, quantity=7)
    elsewhere = BranchFactory()
    services.receive_stock(actor=actor, branch_id=elsewhere.pk, product_id=oat.pk, quantity=50)

    response = page_client(staff).get(scan_url(branch, code=code))

    assertContains(response, "Oat milk")
    assertContains(response, f"On hand at {branch.code}: <strong>7</strong> pieces")
    assertContains(response, 'id="scan-quantity"')
    assertContains(response, 'value="1"')
    assertContains(response, 'value="receive"')


def test_a_lookup_over_htmx_answers_the_region_alone(staff, branch, oat):
    response = page_client(staff).get(scan_url(branch, code="OAT-1L"), **HTMX)

    assertContains(response, 'id="scan"')
    assertContains(response, "Oat milk")
    assertNotContains(response, "<html")


def test_an_unknown_code_is_said_and_kept_for_the_next_try(staff, branch, oat):
    response = page_client(staff).get(scan_url(branch, code="4006000"))

    assertContains(response, "No product with barcode or SKU 4006000.")
    assertContains(response, 'value="4006000"')
    assertContains(response, 'aria-invalid="true"')
    assertNotContains(response, 'id="scan-quantity"')


def test_staff_are_offered_receive_only_managers_issue_too(staff, manager, branch, oat):
    staff_page = page_client(staff).get(scan_url(branch, code="OAT-1L"))
    manager_page = page_client(manager).get(scan_url(branch, code="OAT-1L"))

    assertNotContains(staff_page, 'value="issue"')
    assertContains(manager_page, 'value="issue"')


def test_the_branch_of_someone_else_is_not_found(staff, oat):
    elsewhere = BranchFactory()
    client = page_client(staff)

    looked_up = client.get(scan_url(elsewhere, code="OAT-1L"))
    recorded = record(client, elsewhere, oat)

    assert looked_up.status_code == 404
    assert recorded.status_code == 404
    assert not StockMovement.objects.exists()


# Recording --------------------------------------------------------------------------------


def test_a_receipt_is_recorded_and_the_page_is_ready_for_the_next_scan(staff, branch, oat):
    client = page_client(staff)

    response = record(client, branch, oat, "3")

    assertRedirects(response, scan_url(branch), fetch_redirect_response=False)
    assert on_hand(branch, oat) == 3
    assert movements(branch, oat) == [(MovementKind.RECEIPT, Decimal("3"))]
    page = client.get(scan_url(branch))
    assertContains(page, "Received 3 pcs of Oat milk")
    assertContains(page, "+3")
    assertContains(page, 'value=""')  # the code field, cleared


def test_enter_in_the_quantity_field_receives(staff, branch, oat):
    # Enter submits the form's first button, or, from some scanners' keyboards, none.
    record(page_client(staff), branch, oat, "2", action=None)

    assert movements(branch, oat) == [(MovementKind.RECEIPT, Decimal("2"))]


def test_a_receipt_over_htmx_swaps_in_the_fresh_page_in_one_round_trip(staff, branch, oat):
    response = record(page_client(staff), branch, oat, "2", **HTMX)

    assert response.status_code == 200
    assert response["HX-Push-Url"] == scan_url(branch)
    html = response.content.decode()
    assert 'id="scan-code"' in html
    assert 'id="scan-quantity"' not in html
    assert "+2" in html
    assert "Received 2 pcs of Oat milk" in html  # the toast
    assert "<html" not in html


def test_a_manager_issues(actor, manager, branch, oat):
    services.receive_stock(actor=actor, branch_id=branch.pk, product_id=oat.pk, quantity=10)

    record(page_client(manager), branch, oat, "4", action="issue")

    assert on_hand(branch, oat) == 6
    assert movements(branch, oat)[-1] == (MovementKind.ISSUE, Decimal("-4"))


def test_a_staff_issue_is_refused_in_words(actor, staff, branch, oat):
    services.receive_stock(actor=actor, branch_id=branch.pk, product_id=oat.pk, quantity=10)

    response = record(page_client(staff), branch, oat, "4", action="issue")

    assert response.status_code == 403
    assertContains(response, f"You may not issue stock at {branch.code}.", status_code=403)
    assert on_hand(branch, oat) == 10


def test_issuing_more_than_is_held_is_said_beside_the_quantity(actor, manager, branch, oat):
    services.receive_stock(actor=actor, branch_id=branch.pk, product_id=oat.pk, quantity=2)

    response = record(page_client(manager), branch, oat, "5", action="issue", **HTMX)

    assert response.status_code == 409
    assertContains(response, 'id="scan-quantity-error"', status_code=409)
    assertContains(response, 'value="5"', status_code=409)
    assert on_hand(branch, oat) == 2


@pytest.mark.parametrize("quantity", ["0", "abc", "1.5", ""])
def test_a_bad_quantity_is_said_and_kept(staff, branch, oat, quantity):
    response = record(page_client(staff), branch, oat, quantity)

    assert response.status_code == 400
    assertContains(response, 'id="scan-quantity-error"', status_code=400)
    assertContains(response, "Oat milk", status_code=400)
    assert not StockMovement.objects.exists()


def test_an_inactive_product_is_refused_with_the_services_words(staff, branch):
    ProductFactory(sku="OLD-1", is_active=False)
    client = page_client(staff)
    product = client.get(scan_url(branch, code="OLD-1")).context["product"]

    response = record(client, branch, product, "1")

    assert response.status_code == 409
    assertContains(response, "Product OLD-1 is inactive; it cannot be received.", status_code=409)
    assert not StockMovement.objects.exists()


def test_the_same_form_sent_twice_records_once(staff, branch, oat):
    client = page_client(staff)
    key = new_key()

    first = record(client, branch, oat, "1", key=key)
    second = record(client, branch, oat, "1", key=key, **HTMX)

    assert first.status_code == 302
    assert second.status_code == 200
    assert movements(branch, oat) == [(MovementKind.RECEIPT, Decimal("1"))]
    assert len(client.session["scan_log"]) == 1


def test_a_refused_key_still_records_once_corrected(staff, branch, oat):
    client = page_client(staff)
    key = new_key()

    refused = record(client, branch, oat, "0", key=key)
    corrected = record(client, branch, oat, "2", key=key)

    assert refused.status_code == 400
    assert corrected.status_code == 302
    assert on_hand(branch, oat) == 2


# Undoing ----------------------------------------------------------------------------------


def _last_entry(client) -> dict:
    return client.session["scan_log"][0]


def test_undoing_a_receipt_issues_it_and_the_ledger_keeps_both(manager, branch, oat):
    client = page_client(manager)
    record(client, branch, oat, "3")
    entry = _last_entry(client)

    response = client.post(undo_url(branch), {"once": new_key(), "entry": entry["id"]})

    assertRedirects(response, scan_url(branch))
    assert on_hand(branch, oat) == 0
    assert movements(branch, oat) == [
        (MovementKind.RECEIPT, Decimal("3")),
        (MovementKind.ISSUE, Decimal("-3")),
    ]
    page = client.get(scan_url(branch))
    assertContains(page, "undone")
    assertContains(page, "\u22123")  # minus sign


def test_undoing_an_issue_receives_it(actor, manager, branch, oat):
    services.receive_stock(actor=actor, branch_id=branch.pk, product_id=oat.pk, quantity=5)
    client = page_client(manager)
    record(client, branch, oat, "2", action="issue")

    client.post(undo_url(branch), {"once": new_key(), "entry": _last_entry(client)["id"]}, **HTMX)

    assert on_hand(branch, oat) == 5
    assert [kind for kind, _ in movements(branch, oat)] == [
        MovementKind.RECEIPT,
        MovementKind.ISSUE,
        MovementKind.RECEIPT,
    ]


def test_an_undo_sent_twice_or_again_undoes_once(manager, branch, oat):
    client = page_client(manager)
    record(client, branch, oat, "3")
    entry = _last_entry(client)
    key = new_key()

    client.post(undo_url(branch), {"once": key, "entry": entry["id"]})
    replayed = client.post(undo_url(branch), {"once": key, "entry": entry["id"]})
    again = client.post(undo_url(branch), {"once": new_key(), "entry": entry["id"]})

    assert replayed.status_code == 302
    assert again.status_code == 409
    assertContains(again, "That entry is undone already.", status_code=409)
    assert len(movements(branch, oat)) == 2


def test_staff_are_not_offered_to_undo_a_receipt_and_a_forged_undo_is_refused(staff, branch, oat):
    client = page_client(staff)
    record(client, branch, oat, "3")

    page = client.get(scan_url(branch))
    forged = client.post(undo_url(branch), {"once": new_key(), "entry": _last_entry(client)["id"]})

    assertNotContains(page, reverse("scan-undo"))
    assert forged.status_code == 403
    assertContains(forged, f"You may not issue stock at {branch.code}.", status_code=403)
    assert on_hand(branch, oat) == 3


def test_an_entry_not_in_this_session_cannot_be_undone(actor, manager, branch, oat):
    movement = services.receive_stock(
        actor=actor, branch_id=branch.pk, product_id=oat.pk, quantity=3
    )

    response = page_client(manager).post(
        undo_url(branch), {"once": new_key(), "entry": str(movement.pk)}
    )

    assert response.status_code == 404
    assertContains(response, "not in this session", status_code=404)
    assert on_hand(branch, oat) == 3


def test_the_list_shows_only_this_branchs_entries(staff, branch, oat):
    other = BranchFactory(code="HAM-02")
    MembershipFactory(user=staff, branch=other, role=Role.STAFF)
    client = page_client(staff)
    record(client, other, oat, "9")
    record(client, branch, oat, "4")

    page = client.get(scan_url(branch))

    assertContains(page, "+4")
    assertNotContains(page, "+9")


# Cost -------------------------------------------------------------------------------------


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def test_the_page_costs_the_same_queries_with_a_short_and_a_long_list(manager, branch, oat):
    client = page_client(manager)
    record(client, branch, oat, "1")
    few = _queries(lambda: client.get(scan_url(branch, code="OAT-1L")))
    few_record = _queries(lambda: record(client, branch, oat, "1", **HTMX))

    for _ in range(15):
        record(client, branch, ProductFactory(), "1")
    many = _queries(lambda: client.get(scan_url(branch, code="OAT-1L")))
    many_record = _queries(lambda: record(client, branch, oat, "1", **HTMX))

    assert many == few
    assert many_record == few_record
