"""The transfer note for the truck (/transfers/<id>/note/): the reference large and as a QR
code, both ends, the lines with a column to tick, boxes to sign, and a print stylesheet;
seen by whoever may see the transfer, 404 for anyone else."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import page_client
from transfers import services
from transfers.tests.factories import requested, sent, stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(source):
    product = ProductFactory(sku="OAT-1", name="Oat milk")
    stocked(source, product, 50)
    return product


@pytest.fixture
def transfer(source_manager, source, destination, product):
    source.city, source.address = "Hamburg", "Kai 4"
    source.save()
    destination.city = "Berlin"
    destination.save()
    return sent(source_manager, source, destination, (product, 12))


def note(transfer):
    return reverse("transfer-note", args=[transfer.pk])


def test_the_note_shows_the_reference_and_its_qr_code(transfer, destination_staff):
    response = page_client(destination_staff).get(note(transfer))

    assertContains(response, 'id="note-reference"')
    assertContains(response, transfer.reference)
    html = response.content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'class="note-qr"' in svg
    assert transfer.reference in svg  # its title, read out by screen readers


def test_the_qr_code_encodes_the_reference(transfer):
    import segno

    qr = segno.make(transfer.reference, error="m", micro=False)

    assert qr.designator  # a regular QR code, which every phone camera reads
    svg = qr.svg_inline(
        scale=4, border=2, title=transfer.reference, svgclass="note-qr", omitsize=True
    )
    assert svg in (page_client(transfer.requested_by).get(note(transfer)).content.decode())


def test_the_note_names_both_ends(transfer, source, destination, source_manager):
    response = page_client(source_manager).get(note(transfer))

    for text in (source.code, source.name, "Hamburg", "Kai 4", destination.code, "Berlin"):
        assertContains(response, text)


def test_the_note_lists_the_lines_with_a_column_to_tick(transfer, source_manager):
    response = page_client(source_manager).get(note(transfer))

    assertContains(response, "OAT-1")
    assertContains(response, "Oat milk")
    assertContains(response, "<strong>12</strong>")
    assertContains(response, "Checked")
    assertContains(response, "Requested")


def test_a_shipped_transfers_note_says_what_was_shipped(transfer, source_manager):
    services.ship_transfer(actor=source_manager, transfer_id=transfer.pk)

    response = page_client(source_manager).get(note(transfer))

    assertContains(response, "Shipped")
    assertNotContains(response, ">Requested<")


def test_the_note_has_boxes_to_sign(transfer, source_manager):
    response = page_client(source_manager).get(note(transfer))

    for title in ("Dispatched by", "Carried by", "Received by", "Signature"):
        assertContains(response, title)


def test_the_note_brings_its_print_stylesheet_and_a_print_button(transfer, source_manager):
    response = page_client(source_manager).get(note(transfer))

    assertContains(response, "css/transfer-note")
    assertContains(response, 'id="note-print"')


def test_a_transfers_page_links_to_its_note(transfer, destination_staff):
    response = page_client(destination_staff).get(reverse("transfer", args=[transfer.pk]))

    assertContains(response, note(transfer))


def test_another_branch_finds_no_note(transfer):
    outsider = MembershipFactory(branch=BranchFactory(), role=Role.MANAGER).user

    assert page_client(outsider).get(note(transfer)).status_code == 404


def test_a_request_not_yet_approved_has_a_note_too(
    destination_manager, source, destination, product
):
    pull = requested(destination_manager, source, destination, (product, 3))

    assertContains(page_client(destination_manager).get(note(pull)), pull.reference)


def test_anonymous_visitors_are_sent_to_sign_in(client, transfer):
    response = client.get(note(transfer))

    assert response.status_code == 302


def queries(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_note_costs_the_same_queries_for_one_line_or_twenty(
    source_manager, source, destination, product
):
    client = page_client(source_manager)
    one = sent(source_manager, source, destination, (product, 1))
    products = [ProductFactory() for _ in range(20)]
    for each in products:
        stocked(source, each, 2)
    twenty = sent(source_manager, source, destination, *[(p, 1) for p in products])

    assert queries(client, note(one)) == queries(client, note(twenty))
