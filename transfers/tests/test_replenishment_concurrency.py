"""Two people creating the suggested drafts at the same moment, in real threads each with its
own PostgreSQL connection: the need is ordered once."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from accounts.tests.factories import AdminFactory, ManagerFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory, SupplierFactory
from stock.models import StockLevel
from transfers import replenishment
from transfers.models import PurchaseOrder, Transfer
from transfers.tests.factories import offered

# Many connections at once: never beside the server tests (inventory_project/tests/
# test_rolling_restart.py says why).
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.xdist_group("many-connections"),
]

# How long the first to apply keeps computing under its lock, so that the other is certainly
# waiting for it rather than arriving after it is done.
HOLD = 0.5


def race(*steps):
    start = threading.Barrier(len(steps), timeout=30)

    def run(step):
        try:
            start.wait()
            began = time.monotonic()
            try:
                step()
                result = "done"
            except Exception as error:  # a database error too, shown in the assertion
                result = f"{type(error).__name__}: {error}"
            return result, time.monotonic() - began
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(steps)) as pool:
        return list(pool.map(run, steps))


def test_two_people_applying_at_once_order_the_need_once(postgres, monkeypatch):
    here, there = BranchFactory(), BranchFactory()
    widget = ProductFactory(low_stock_threshold=Decimal(10))
    offered(SupplierFactory(), widget, preferred=True)
    StockLevel.objects.create(branch=here, product=widget, on_hand=2)
    StockLevel.objects.create(branch=there, product=widget, on_hand=25)
    manager, admin = ManagerFactory(branch=here).user, AdminFactory()
    compute = replenishment.compute

    def slow(inputs, branches):
        time.sleep(HOLD)
        return compute(inputs, branches)

    monkeypatch.setattr(replenishment, "compute", slow)

    results = race(
        lambda: replenishment.apply_plan(actor=manager, branch_id=here.pk),
        lambda: replenishment.apply_plan(actor=admin, branch_id=here.pk),
    )

    assert sorted(result for result, _ in results) == [
        "Conflict: Nothing needs replenishing now.",
        "done",
    ]
    # The second waited for the first's lock, then counted its drafts as coming.
    assert max(seconds for _, seconds in results) >= 2 * HOLD * 0.8
    assert Transfer.objects.count() == 1
    assert PurchaseOrder.objects.count() == 1
    assert Transfer.objects.get().lines.get().requested == 5
    assert PurchaseOrder.objects.get().lines.get().quantity_ordered == 13  # 20 - 2 - 5
