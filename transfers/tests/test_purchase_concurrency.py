"""Real threads, each with its own PostgreSQL connection, receiving against one order at
once: the order row is locked first, so each receipt sees what the others received and
none goes beyond what the rules allow."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from catalog.tests.factories import ProductFactory, SupplierFactory
from stock.models import StockMovement
from transfers import purchasing
from transfers.models import PurchaseOrderLine, PurchaseOrderStatus, PurchaseReceipt
from transfers.tests.factories import on_hand, receipt_items, sent_order

# Many connections at once: never beside the server tests (inventory_project/tests/
# test_rolling_restart.py says why).
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.xdist_group("many-connections"),
]

THREADS = 12


def at_once(work) -> list[str]:
    """Run ``work()`` in THREADS threads released together; each one's outcome: ``done``
    or the error's class name."""
    start = threading.Barrier(THREADS, timeout=30)

    def run(_: int) -> str:
        try:
            start.wait()
            work()
            return "done"
        except Exception as error:  # a database error too, counted below
            return type(error).__name__
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


@pytest.fixture
def order_of(postgres, actor, branch):
    def make(quantity):
        product = ProductFactory()
        return sent_order(actor, branch, SupplierFactory(), (product, quantity)), product

    return make


def books(order, product):
    line = PurchaseOrderLine.objects.get(order=order)
    receipts = PurchaseReceipt.objects.filter(line=line).aggregate(total=Sum("quantity"))["total"]
    movements = StockMovement.objects.filter(purchase_receipt__line=line).aggregate(
        total=Sum("delta")
    )["total"]
    return line.quantity_received, receipts, movements, on_hand(order.branch, product)


def test_receipts_racing_against_one_line_stop_at_the_tolerance(actor, order_of, settings):
    settings.PURCHASE_RECEIPT_TOLERANCE = 0.10
    order, product = order_of(12)  # up to 13.2 without a reason

    outcomes = at_once(
        lambda: purchasing.receive_purchase_order(
            actor=actor, order_id=order.pk, items=receipt_items((product, 5))
        )
    )

    # 5, then 10; a third 5 would make 15, beyond the tolerance, and needs a reason.
    assert sorted(outcomes) == ["InvalidInput"] * (THREADS - 2) + ["done"] * 2
    assert books(order, product) == (Decimal(10),) * 4
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.PARTIALLY_RECEIVED


def test_receipts_racing_past_the_last_one_find_the_order_received(actor, order_of):
    order, product = order_of(20)

    outcomes = at_once(
        lambda: purchasing.receive_purchase_order(
            actor=actor, order_id=order.pk, items=receipt_items((product, 3))
        )
    )

    # Seven receipts of 3 make 21 (within 22): received; the rest find it received.
    assert sorted(outcomes) == ["IllegalOrderStep"] * (THREADS - 7) + ["done"] * 7
    assert books(order, product) == (Decimal(21),) * 4
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.RECEIVED
    assert order.events.filter(step="RECEIVE").count() == 7
