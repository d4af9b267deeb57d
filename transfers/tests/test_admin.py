import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from transfers import services
from transfers.models import Transfer, TransferEvent, TransferLine, TransferStatus
from transfers.tests.factories import requested, sent, stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


@pytest.fixture
def source():
    return BranchFactory(code="SRC")


@pytest.fixture
def destination():
    return BranchFactory(code="DST")


@pytest.fixture
def transfer(actor, source, destination):
    """Shipped and partly received, so that lines and events have something to show."""
    first = ProductFactory(sku="TEA-1", name="Green tea")
    second = ProductFactory(sku="CUP-2", name="Mug")
    stocked(source, first, 10)
    stocked(source, second, 10)
    transfer = sent(actor, source, destination, (first, 6), (second, 4), note="weekly")
    services.ship_transfer(actor=actor, transfer_id=transfer.pk)
    receiver = MembershipFactory(branch=destination, role=Role.STAFF, user__full_name="Rita R").user
    services.receive_transfer(actor=receiver, transfer_id=transfer.pk, quantities={first.pk: 6})
    return transfer


def url(view, *args):
    return reverse(f"admin:transfers_transfer_{view}", args=args)


def test_the_changelist_shows_transfers_with_their_branches(admin_client, transfer):
    response = admin_client.get(url("changelist"))

    assert response.status_code == 200
    assert transfer.reference in response.text
    row = next(r for r in response.text.split('<tr class="') if transfer.reference in r)
    assert '<td class="field-source">SRC</td>' in row
    assert '<td class="field-destination">DST</td>' in row
    assert "partially received" in row


def test_the_changelist_searches_by_reference_and_filters(admin_client, actor, transfer):
    other = requested(actor, transfer.from_branch, transfer.to_branch, (ProductFactory(), 1))

    found = admin_client.get(url("changelist"), {"q": other.reference.lower()})
    by_status = admin_client.get(url("changelist"), {"status__exact": TransferStatus.REQUESTED})
    by_kind = admin_client.get(url("changelist"), {"kind__exact": "PUSH"})

    assert list(found.context["cl"].result_list) == [other]
    assert list(by_status.context["cl"].result_list) == [other]
    assert list(by_kind.context["cl"].result_list) == [transfer]


def test_the_change_page_shows_lines_and_history_read_only(admin_client, transfer):
    response = admin_client.get(url("change", transfer.pk))

    assert response.status_code == 200
    page = response.text
    assert "TEA-1" in page
    assert "CUP-2" in page
    assert "Rita R" in page  # who received
    assert "weekly" in page
    inlines = response.context["inline_admin_formsets"]
    assert [len(list(inline)) for inline in inlines] == [2, 3]  # lines, events
    assert 'name="_save"' not in page
    assert 'name="lines-0-requested"' not in page


def test_transfers_cannot_be_added_changed_or_deleted_in_the_admin(admin_client, transfer):
    assert admin_client.get(url("add")).status_code == 403
    assert admin_client.post(url("delete", transfer.pk)).status_code == 403
    response = admin_client.post(url("change", transfer.pk), {"status": TransferStatus.CANCELLED})
    assert response.status_code == 403
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.PARTIALLY_RECEIVED
    assert Transfer.objects.count() == 1


def test_the_changelist_runs_a_constant_number_of_queries(admin_client, actor, transfer):
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url("changelist"))
    for _ in range(10):
        requested(AdminFactory(), transfer.from_branch, BranchFactory(), (ProductFactory(), 1))

    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url("changelist"))

    assert response.context["cl"].result_count == 11
    assert len(many) == len(few)


def test_lines_and_events_have_no_admin_of_their_own():
    assert Transfer in admin.site._registry
    assert TransferEvent not in admin.site._registry
    assert TransferLine not in admin.site._registry


def test_the_change_page_heads_lines_and_events_by_name_not_id(admin_client, transfer):
    response = admin_client.get(url("change", transfer.pk))

    originals = response.text.split('<td class="original">')[1:]
    heads = [cell.split("</p>")[0].split("<p>")[1].strip() for cell in originals]
    assert heads == [
        "CUP-2 · Mug",
        "TEA-1 · Green tea",
        f"{transfer.reference} · sent · SRC → DST",
        f"{transfer.reference} · shipped · SRC → DST",
        f"{transfer.reference} · received · SRC → DST",
    ]


def test_no_line_or_event_is_headed_by_an_id(admin_client, transfer):
    response = admin_client.get(url("change", transfer.pk))

    originals = "".join(response.text.split('<td class="original">')[1:])
    for line in transfer.lines.all():
        assert f"of {line.product_id}" not in originals
    assert f"{transfer.pk}:" not in originals


def test_the_change_page_runs_a_constant_number_of_queries(
    admin_client, actor, source, destination
):
    def shipped_with(count: int) -> Transfer:
        products = [ProductFactory() for _ in range(count)]
        for product in products:
            stocked(source, product, 5)
        transfer = sent(actor, source, destination, *[(product, 1) for product in products])
        services.ship_transfer(actor=actor, transfer_id=transfer.pk)
        return transfer

    small, large = shipped_with(1), shipped_with(12)
    admin_client.get(url("change", small.pk))  # what a process reads once (content types)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url("change", small.pk)).status_code == 200

    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url("change", large.pk))

    assert "SRC → DST" in response.text
    assert len(many) == len(few)
