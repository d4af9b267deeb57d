"""The back office reads purchase orders, their lines with their receipts and their
history; it changes none of them (orders move through the services only)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory, SupplierFactory
from transfers import purchasing
from transfers.models import PurchaseOrder, PurchaseReceipt
from transfers.tests.factories import receipt_items, sent_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


@pytest.fixture
def order(actor):
    """Sent and partly received, so that lines, receipts and events have something to show."""
    branch = BranchFactory(code="NRTH")
    supplier = SupplierFactory(code="ACME")
    screws = ProductFactory(sku="SCR-4")
    nails = ProductFactory(sku="NAIL-2")
    order = sent_order(actor, branch, supplier, (screws, 12), (nails, 5))
    receiver = MembershipFactory(branch=branch, role=Role.STAFF, user__full_name="Rita R").user
    purchasing.receive_purchase_order(
        actor=receiver, order_id=order.pk, items=receipt_items((screws, 12, "0.75"))
    )
    return order


def url(view, *args, model="purchaseorder"):
    return reverse(f"admin:transfers_{model}_{view}", args=args)


def test_the_changelist_shows_orders_with_branch_supplier_and_status(admin_client, order):
    response = admin_client.get(url("changelist"))

    assert response.status_code == 200
    row = next(r for r in response.text.split('<tr class="') if order.reference in r)
    assert '<td class="field-branch_code">NRTH</td>' in row
    assert '<td class="field-supplier_code">ACME</td>' in row
    assert "partially received" in row


def test_the_change_page_shows_lines_receipts_and_history_read_only(admin_client, order):
    response = admin_client.get(url("change", order.pk))

    assert response.status_code == 200
    text = response.text
    assert "SCR-4" in text
    assert "NAIL-2" in text
    assert "0.7500" in text  # the receipt's unit cost
    assert "Rita R" in text
    assert "partially received" in text
    assert 'name="_save"' not in text
    assert 'class="deletelink"' not in text


def test_nothing_is_added_changed_or_deleted_through_the_admin(admin_client, order):
    assert admin_client.get(url("add")).status_code == 403
    posted = admin_client.post(url("change", order.pk), {"status": "CANCELLED", "note": "x"})
    assert posted.status_code == 403
    assert admin_client.post(url("delete", order.pk), {"post": "yes"}).status_code == 403
    order.refresh_from_db()
    assert order.status == "PARTIALLY_RECEIVED"
    assert PurchaseOrder.objects.count() == 1


def test_receipts_are_listed_with_their_order(admin_client, order):
    response = admin_client.get(url("changelist", model="purchasereceipt"))

    assert response.status_code == 200
    assert order.reference in response.text
    assert admin_client.get(url("add", model="purchasereceipt")).status_code == 403
    assert PurchaseReceipt.objects.count() == 1


def test_the_change_page_reads_in_a_fixed_number_of_queries(admin_client, actor, order):
    def queries(target) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url("change", target.pk)).status_code == 200
        return len(captured)

    products = ProductFactory.create_batch(10)
    larger = sent_order(actor, order.branch, order.supplier, *[(p, 2) for p in products])
    purchasing.receive_purchase_order(
        actor=actor, order_id=larger.pk, items=receipt_items(*[(p, 1) for p in products])
    )

    queries(order)  # the first request of a session reads more (the session, the user)
    assert queries(larger) == queries(order)
