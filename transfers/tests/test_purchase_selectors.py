"""Reads of purchase orders: who sees which, one order in full, and the CSV the supplier
gets."""

import csv
import io
from decimal import Decimal

import pytest

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory, SupplierFactory
from transfers import purchase_selectors
from transfers.errors import UnknownPurchaseOrder
from transfers.tests.factories import PurchaseOrderFactory, PurchaseOrderLineFactory

pytestmark = pytest.mark.django_db


def test_members_see_the_orders_of_their_branches_and_admins_all(actor, branch):
    own = PurchaseOrderFactory(branch=branch)
    other = PurchaseOrderFactory(branch=BranchFactory())
    staff = MembershipFactory(branch=branch, role=Role.STAFF).user

    assert list(purchase_selectors.visible_orders(staff)) == [own]
    assert set(purchase_selectors.visible_orders(actor)) == {own, other}


@pytest.mark.parametrize("order_id", ["x", "00000000-0000-0000-0000-000000000000", "1", ""])
def test_an_unknown_or_malformed_order_is_unknown(actor, order_id):
    with pytest.raises(UnknownPurchaseOrder):
        purchase_selectors.order_detail(actor, order_id)


def test_another_branch_s_order_is_unknown_to_its_non_members(branch):
    order = PurchaseOrderFactory(branch=BranchFactory())
    manager = MembershipFactory(branch=branch, role=Role.MANAGER).user

    with pytest.raises(UnknownPurchaseOrder):
        purchase_selectors.order_detail(manager, order.pk)


def test_the_list_counts_lines_newest_first(actor):
    older = PurchaseOrderFactory()
    PurchaseOrderLineFactory.create_batch(2, order=older)
    newer = PurchaseOrderFactory()

    rows = list(purchase_selectors.order_list(actor))

    assert [(row.pk, row.line_count) for row in rows] == [(newer.pk, 0), (older.pk, 2)]


def test_the_csv_lists_each_line_with_skus_quantity_price_and_total():
    order = PurchaseOrderFactory(supplier=SupplierFactory(code="ACME"), currency="USD")
    PurchaseOrderLineFactory(
        order=order,
        product=ProductFactory(sku="B-2", name="Bolts, zinc"),
        supplier_sku="AC-77",
        quantity_ordered=Decimal("12"),
        unit_price=Decimal("0.0375"),
    )
    PurchaseOrderLineFactory(
        order=order,
        product=ProductFactory(sku="A-1", name='+1 "special" @home'),
        quantity_ordered=Decimal("2.5"),
        unit_price=None,
    )

    rows = list(csv.reader(io.StringIO(purchase_selectors.order_csv(order))))

    assert rows == [
        purchase_selectors.CSV_HEADER,
        [
            order.reference,
            "ACME",
            "1",
            "",
            "A-1",
            '\'+1 "special" @home',
            "pcs",
            "2.5",
            "",
            "USD",
            "",
        ],
        [
            order.reference,
            "ACME",
            "2",
            "AC-77",
            "B-2",
            "Bolts, zinc",
            "pcs",
            "12",
            "0.0375",
            "USD",
            "0.4500",
        ],
    ]
