"""Receipts at different costs racing for one level, through both write paths: the average
the level ends with is the one the ledger replays in version order."""

import itertools
from decimal import Decimal

import pytest

from stock import services
from stock.models import MovementKind, StockLevel
from stock.services import MovementLine, average_cost_after
from stock.tests.test_concurrency import THREADS, run_in_threads

# Many connections at once: never beside the server tests (inventory_project/tests/
# test_rolling_restart.py says why).
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.xdist_group("many-connections"),
]


def test_concurrent_costed_receipts_keep_the_average_the_ledger_replays(
    postgres, actor, branch, product
):
    costs = itertools.cycle(["1.0000", "2.5000", "3.3333", "0.0001"])
    batch = itertools.count()

    def receive() -> str:
        cost = next(costs)
        ids = {"actor": actor, "branch_id": branch.id}
        if next(batch) % 2:
            services.receive_stock(**ids, product_id=product.id, quantity=3, unit_cost=cost)
        else:
            services.record_stock_batch(
                **ids,
                kind=MovementKind.RECEIPT,
                lines=[MovementLine(product_id=product.id, quantity=3, unit_cost=cost)],
            )
        services.issue_stock(**ids, product_id=product.id, quantity=1)
        return "done"

    assert run_in_threads(receive, per_thread=3) == ["done"] * THREADS * 3

    level = StockLevel.objects.get()
    on_hand, average = Decimal(0), None
    for movement in level.movements.order_by("version"):
        if movement.kind == MovementKind.RECEIPT:
            average = average_cost_after(
                on_hand=on_hand,
                average_cost=average,
                cost_price=product.cost_price,
                quantity=movement.delta,
                unit_cost=movement.unit_cost,
            )
        else:
            assert movement.unit_cost == average
        on_hand += movement.delta
        assert movement.average_cost_after == average
    assert (level.on_hand, level.average_cost) == (on_hand, average)
