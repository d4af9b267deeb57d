"""A transfer's page at the destination: what arrived is received line by line (0 for a
line not there yet), or everything outstanding at once; a transfer whose rest will not come
is closed short with a reason; a step someone else took first is said in words beside the
transfer as it now is; a shipment larger than the source holds is refused at the ship
form."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.models import Unit
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import page_client
from transfers import services
from transfers.models import ShortfallReason, Transfer, TransferEvent, TransferStatus
from transfers.tests.factories import on_hand, sent, stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def oats(source):
    product = ProductFactory(sku="OAT-1", name="Oat milk")
    stocked(source, product, 50)
    return product


@pytest.fixture
def rye(source):
    product = ProductFactory(sku="RYE-1", name="Rye bread")
    stocked(source, product, 50)
    return product


@pytest.fixture
def shipped(source_manager, source, destination, oats, rye):
    """Seven oat milk and four rye bread on their way to the destination."""
    transfer = sent(source_manager, source, destination, (oats, 7), (rye, 4))
    return services.ship_transfer(actor=source_manager, transfer_id=transfer.pk)


def detail(transfer):
    return reverse("transfer", args=[transfer.pk])


def step_url(transfer, step):
    return reverse("transfer-step", args=[transfer.pk, step])


def once_key(response, step) -> str:
    html = response.content.decode()
    form = html[html.index(f'id="step-{step}"') :]
    return re.search(rf'name="{step}-once" value="(\w+)"', form).group(1)


def receipt(client, transfer, quantities: dict, **extra) -> dict:
    """The receive form as the page draws it, with ``quantities`` typed per product."""
    page = client.get(detail(transfer))
    data = {"receive-once": once_key(page, "receive"), "receive-note": ""}
    data.update({f"receive-{product.pk}": value for product, value in quantities.items()})
    data.update({f"receive-{name}": value for name, value in extra.items()})
    return data


def closing(client, transfer, reason="LOST", note="") -> dict:
    page = client.get(detail(transfer))
    return {"close-once": once_key(page, "close"), "close-reason": reason, "close-note": note}


# Receiving part -----------------------------------------------------------------------------


def test_the_form_offers_what_is_outstanding_of_each_line(shipped, destination_staff, oats, rye):
    response = page_client(destination_staff).get(detail(shipped))

    assertContains(response, f'name="receive-{oats.pk}" id="id_receive-{oats.pk}" value="7"')
    assertContains(response, f'name="receive-{rye.pk}" id="id_receive-{rye.pk}" value="4"')


def test_staff_receive_part_of_a_line_and_the_rest_stays_outstanding(
    shipped, destination_staff, destination, oats, rye
):
    client = page_client(destination_staff)

    response = client.post(
        step_url(shipped, "receive"), receipt(client, shipped, {oats: "3", rye: "4"})
    )

    assert response.status_code == 302
    transfer = Transfer.objects.get(pk=shipped.pk)
    assert transfer.status == TransferStatus.PARTIALLY_RECEIVED
    assert (on_hand(destination, oats), on_hand(destination, rye)) == (3, 4)
    page = client.get(detail(shipped))
    assertContains(page, f'name="receive-{oats.pk}" id="id_receive-{oats.pk}" value="4"')
    assertNotContains(page, f'name="receive-{rye.pk}"')


def test_a_line_not_arrived_yet_takes_zero(shipped, destination_staff, destination, oats, rye):
    client = page_client(destination_staff)

    client.post(step_url(shipped, "receive"), receipt(client, shipped, {oats: "7", rye: "0"}))

    assert (on_hand(destination, oats), on_hand(destination, rye)) == (7, 0)
    assert shipped.lines.get(product=rye).received == 0


def test_the_last_part_received_completes_the_transfer(shipped, destination_staff, oats, rye):
    client = page_client(destination_staff)
    client.post(step_url(shipped, "receive"), receipt(client, shipped, {oats: "3", rye: "0"}))

    client.post(step_url(shipped, "receive"), receipt(client, shipped, {oats: "4", rye: "4"}))

    assert Transfer.objects.get(pk=shipped.pk).status == TransferStatus.RECEIVED


def test_nothing_at_all_is_an_error(shipped, destination_staff, destination, oats, rye):
    client = page_client(destination_staff)

    response = client.post(
        step_url(shipped, "receive"), receipt(client, shipped, {oats: "0", rye: "0"})
    )

    assertContains(response, "Enter how much of at least one line arrived.", status_code=400)
    assert Transfer.objects.get(pk=shipped.pk).status == TransferStatus.IN_TRANSIT


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("8", "Only 7 pcs are still to arrive."),
        ("-1", "Quantity cannot be negative."),
        ("1.5", "must be a whole number of pieces"),
        ("some", "Quantity must be a number"),
        ("", "This field is required."),
    ],
)
def test_a_quantity_that_does_not_fit_is_an_error_beside_its_line_keeping_what_was_typed(
    shipped, destination_staff, destination, oats, rye, typed, message
):
    client = page_client(destination_staff)

    response = client.post(
        step_url(shipped, "receive"), receipt(client, shipped, {oats: typed, rye: "2"})
    )

    assertContains(response, message, status_code=400)
    assertContains(response, f'id="id_receive-{oats.pk}-error"', status_code=400)
    assertContains(
        response, f'name="receive-{rye.pk}" id="id_receive-{rye.pk}" value="2"', status_code=400
    )
    assert on_hand(destination, rye) == 0


def test_a_fraction_of_a_weighed_product_is_received(
    source_manager, destination_staff, source, destination
):
    flour = ProductFactory(unit=Unit.KILOGRAM)
    stocked(source, flour, 10)
    transfer = sent(source_manager, source, destination, (flour, "2.5"))
    services.ship_transfer(actor=source_manager, transfer_id=transfer.pk)
    client = page_client(destination_staff)

    client.post(step_url(transfer, "receive"), receipt(client, transfer, {flour: "1.25"}))

    assert on_hand(destination, flour) == Decimal("1.25")


def test_receive_everything_outstanding_ignores_what_was_typed(
    shipped, destination_staff, destination, oats, rye
):
    client = page_client(destination_staff)
    data = receipt(client, shipped, {oats: "nonsense", rye: ""}, everything="1")

    response = client.post(step_url(shipped, "receive"), data)

    assert response.status_code == 302
    assert Transfer.objects.get(pk=shipped.pk).status == TransferStatus.RECEIVED
    assert (on_hand(destination, oats), on_hand(destination, rye)) == (7, 4)


def test_a_receipt_sent_twice_is_recorded_once(shipped, destination_staff, destination, oats, rye):
    client = page_client(destination_staff)
    data = receipt(client, shipped, {oats: "2", rye: "0"})

    client.post(step_url(shipped, "receive"), data)
    again = client.post(step_url(shipped, "receive"), data)

    assert again.status_code == 302
    assert on_hand(destination, oats) == 2
    assert TransferEvent.objects.filter(transfer=shipped, step="RECEIVE").count() == 1


def test_the_receipts_note_goes_into_the_history(shipped, destination_staff, oats, rye):
    client = page_client(destination_staff)
    data = receipt(client, shipped, {oats: "2", rye: "0"}, note="one crate dented")

    client.post(step_url(shipped, "receive"), data)

    assertContains(client.get(detail(shipped)), "one crate dented")


def test_the_source_cannot_receive(shipped, source_manager, destination_staff, oats, rye):
    data = receipt(page_client(destination_staff), shipped, {oats: "2", rye: "0"})

    response = page_client(source_manager).post(step_url(shipped, "receive"), data)

    assert response.status_code == 403
    assert Transfer.objects.get(pk=shipped.pk).status == TransferStatus.IN_TRANSIT


def test_another_branch_cannot_receive(shipped, destination_staff, oats, rye):
    outsider = MembershipFactory(branch=BranchFactory(), role=Role.MANAGER).user
    data = receipt(page_client(destination_staff), shipped, {oats: "2", rye: "0"})

    assert page_client(outsider).post(step_url(shipped, "receive"), data).status_code == 404


# Closing short ------------------------------------------------------------------------------


def test_closing_short_records_the_reason_and_the_shortfall(
    shipped, destination_manager, oats, rye
):
    client = page_client(destination_manager)
    client.post(step_url(shipped, "receive"), receipt(client, shipped, {oats: "5", rye: "4"}))

    response = client.post(
        step_url(shipped, "close"), closing(client, shipped, "DAMAGED", "crate dropped")
    )

    assert response.status_code == 302
    transfer = Transfer.objects.get(pk=shipped.pk)
    assert (transfer.status, transfer.shortfall_reason) == (
        TransferStatus.RECEIVED,
        ShortfallReason.DAMAGED,
    )
    assert transfer.lines.get(product=oats).shortfall == 2
    assertContains(client.get(detail(shipped)), "crate dropped")


def test_closing_short_without_a_reason_is_an_error_beside_it(shipped, destination_staff):
    client = page_client(destination_staff)

    response = client.post(step_url(shipped, "close"), closing(client, shipped, reason=""))

    assertContains(response, 'id="id_close-reason-error"', status_code=400)
    assert Transfer.objects.get(pk=shipped.pk).status == TransferStatus.IN_TRANSIT


def test_a_reason_not_on_the_list_is_an_error(shipped, destination_staff):
    client = page_client(destination_staff)

    response = client.post(step_url(shipped, "close"), closing(client, shipped, reason="EATEN"))

    assert response.status_code == 400
    assert Transfer.objects.get(pk=shipped.pk).status == TransferStatus.IN_TRANSIT


def test_closing_short_is_offered_only_while_goods_are_under_way(
    source_manager, destination_manager, source, destination, oats
):
    transfer = sent(source_manager, source, destination, (oats, 2))

    assertNotContains(page_client(destination_manager).get(detail(transfer)), 'id="step-close"')


# Someone else acted first ----------------------------------------------------------------------


def test_a_receipt_after_someone_else_received_everything_says_so_and_shows_the_transfer(
    shipped, destination_staff, destination, oats, rye
):
    colleague = MembershipFactory(branch=destination, role=Role.STAFF).user
    client = page_client(destination_staff)
    stale = receipt(client, shipped, {oats: "7", rye: "4"})
    other = page_client(colleague)
    other.post(step_url(shipped, "receive"), receipt(other, shipped, {oats: "7", rye: "4"}))

    response = client.post(step_url(shipped, "receive"), stale)

    assertContains(response, "Someone else acted first", status_code=409)
    assertContains(response, 'id="transfer-refusal"', status_code=409)
    assertContains(response, TransferStatus.RECEIVED.label, status_code=409)
    assertNotContains(response, 'id="step-receive"', status_code=409)
    assert on_hand(destination, oats) == 7


def test_receiving_everything_after_someone_else_did_says_so(
    shipped, destination_staff, destination, oats, rye
):
    colleague = MembershipFactory(branch=destination, role=Role.STAFF).user
    client = page_client(destination_staff)
    stale = receipt(client, shipped, {}, everything="1")
    other = page_client(colleague)
    other.post(step_url(shipped, "receive"), receipt(other, shipped, {}, everything="1"))

    response = client.post(step_url(shipped, "receive"), stale)

    assertContains(response, "Someone else acted first", status_code=409)
    assert on_hand(destination, oats) == 7


def test_a_receipt_larger_than_what_is_left_after_another_part_is_refused_beside_the_line(
    shipped, destination_staff, destination, oats, rye
):
    colleague = MembershipFactory(branch=destination, role=Role.STAFF).user
    client = page_client(destination_staff)
    stale = receipt(client, shipped, {oats: "7", rye: "0"})
    other = page_client(colleague)
    other.post(step_url(shipped, "receive"), receipt(other, shipped, {oats: "5", rye: "0"}))

    response = client.post(step_url(shipped, "receive"), stale)

    assert response.status_code == 400
    assertContains(response, "Only 2 pcs are still to arrive.", status_code=400)
    assert on_hand(destination, oats) == 5


def test_closing_after_someone_else_closed_says_so(shipped, destination_staff, destination):
    colleague = MembershipFactory(branch=destination, role=Role.MANAGER).user
    client = page_client(destination_staff)
    stale = closing(client, shipped, "LOST")
    other = page_client(colleague)
    other.post(step_url(shipped, "close"), closing(other, shipped, "DAMAGED"))

    response = client.post(step_url(shipped, "close"), stale)

    assertContains(response, "Someone else acted first", status_code=409)
    assert Transfer.objects.get(pk=shipped.pk).shortfall_reason == ShortfallReason.DAMAGED


# Shipping what the source does not hold -------------------------------------------------------


def test_shipping_more_than_the_source_holds_is_refused_at_the_ship_form(
    source_manager, source, destination, oats
):
    transfer = sent(source_manager, source, destination, (oats, 80))
    client = page_client(source_manager)
    page = client.get(detail(transfer))

    response = client.post(step_url(transfer, "ship"), {"ship-once": once_key(page, "ship")})

    assert response.status_code == 409
    html = response.content.decode()
    ship_form = html[html.index('id="step-ship"') :]
    assert f"{source.code} holds 50" in ship_form[: ship_form.index("</form>")]
    assert Transfer.objects.get(pk=transfer.pk).status == TransferStatus.APPROVED
    assert on_hand(source, oats) == 50


# Live ---------------------------------------------------------------------------------------


def preserved_ids(response) -> list[str]:
    return re.findall(r'id="([\w-]+)" hx-preserve', response.content.decode())


def test_a_refresh_of_an_unchanged_transfer_keeps_the_forms_being_filled_in(
    shipped, destination_staff
):
    client = page_client(destination_staff)
    first = client.get(detail(shipped), headers={"HX-Request": "true"})
    again = client.get(detail(shipped), headers={"HX-Request": "true"})

    assert len(preserved_ids(first)) == 2  # the receipt and the closing
    assert preserved_ids(again) == preserved_ids(first)


def test_a_refresh_after_a_step_draws_the_forms_anew(shipped, destination_staff, oats, rye):
    client = page_client(destination_staff)
    before = preserved_ids(client.get(detail(shipped)))
    client.post(step_url(shipped, "receive"), receipt(client, shipped, {oats: "1", rye: "0"}))

    after = preserved_ids(client.get(detail(shipped), headers={"HX-Request": "true"}))

    assert after
    assert not set(after) & set(before)


# Queries ------------------------------------------------------------------------------------


def queries(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def shipped_with(source_manager, source, destination, count):
    products = [ProductFactory() for _ in range(count)]
    for product in products:
        stocked(source, product, 5)
    transfer = sent(source_manager, source, destination, *[(p, 2) for p in products])
    services.ship_transfer(actor=source_manager, transfer_id=transfer.pk)
    return transfer, products


def test_the_page_with_its_receipt_form_costs_the_same_for_one_line_or_twenty(
    source_manager, destination_staff, source, destination
):
    client = page_client(destination_staff)
    one, _ = shipped_with(source_manager, source, destination, 1)
    twenty, _ = shipped_with(source_manager, source, destination, 20)

    assert queries(client, detail(one)) == queries(client, detail(twenty))


def test_a_receipt_costs_the_same_queries_for_one_line_or_twenty(
    source_manager, destination_staff, source, destination
):
    client = page_client(destination_staff)
    counts = []
    for size in (1, 20):
        transfer, products = shipped_with(source_manager, source, destination, size)
        data = receipt(client, transfer, dict.fromkeys(products, "1"))
        with CaptureQueriesContext(connection) as captured:
            assert client.post(step_url(transfer, "receive"), data).status_code == 302
        counts.append(len(captured))

    assert counts[0] == counts[1]
