"""Real threads, each with its own PostgreSQL connection, racing for the same rows."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from catalog.tests.factories import ProductFactory
from stock import services
from stock.errors import InsufficientStock
from stock.models import MovementKind, StockLevel, StockMovement

# Many connections at once: never beside the server tests (inventory_project/tests/
# test_rolling_restart.py says why).
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.xdist_group("many-connections"),
]

THREADS = 20


def run_in_threads(work, per_thread: int) -> list[str]:
    """Run ``work()`` ``per_thread`` times in each of THREADS threads started together."""
    start = threading.Barrier(THREADS)

    def worker() -> list[str]:
        outcomes = []
        try:
            start.wait()
            for _ in range(per_thread):
                outcomes.append(work())
        finally:
            connection.close()
        return outcomes

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(worker) for _ in range(THREADS)]
        return [outcome for future in futures for outcome in future.result()]


def test_concurrent_issues_never_oversell(postgres, actor, branch, product):
    services.receive_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=600)

    def issue_one() -> str:
        try:
            services.issue_stock(
                actor=actor, branch_id=branch.id, product_id=product.id, quantity=1
            )
        except InsufficientStock:
            return "refused"
        return "issued"

    outcomes = run_in_threads(issue_one, per_thread=50)

    assert outcomes.count("issued") == 600
    assert outcomes.count("refused") == THREADS * 50 - 600
    level = StockLevel.objects.get()
    assert level.on_hand == 0
    assert level.version == 601
    assert not StockMovement.objects.filter(on_hand_after__lt=0).exists()
    call_command("verify_ledger")


def test_concurrent_first_receipts_create_one_level(postgres, actor, branch, product):
    def receive_two() -> str:
        services.receive_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=2)
        return "received"

    outcomes = run_in_threads(receive_two, per_thread=1)

    assert outcomes == ["received"] * THREADS
    level = StockLevel.objects.get()
    assert level.on_hand == Decimal(2 * THREADS)
    assert sorted(level.movements.values_list("version", flat=True)) == list(range(1, THREADS + 1))
    call_command("verify_ledger")


def test_batches_in_opposite_orders_never_deadlock(postgres, actor, branch):
    """Half the threads list the products one way, half the other way; levels are locked in
    primary-key order whatever the order of the lines, so no one waits in a cycle."""
    products = ProductFactory.create_batch(4)
    for product in products:
        services.receive_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=1)
    orders = [products, products[::-1]]
    turn = iter(range(THREADS * 10))

    def receive_all() -> str:
        lines = [services.MovementLine(product_id=p.id, quantity=1) for p in orders[next(turn) % 2]]
        services.record_stock_batch(
            actor=actor, branch_id=branch.id, kind=MovementKind.RECEIPT, lines=lines
        )
        return "received"

    outcomes = run_in_threads(receive_all, per_thread=5)

    assert outcomes.count("received") == THREADS * 5
    for level in StockLevel.objects.all():
        assert level.on_hand == 1 + THREADS * 5
    call_command("verify_ledger")
