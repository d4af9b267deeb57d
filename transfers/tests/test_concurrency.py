"""Real threads, each with its own PostgreSQL connection, acting on the same transfers."""

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.tests.factories import AdminFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.kernel import realtime
from stock.models import MovementKind, StockLevel, StockMovement
from transfers import services
from transfers.conservation import conservation_discrepancies
from transfers.events import TRANSFER_UPDATED
from transfers.models import TransferStatus
from transfers.tests.factories import items, sent, stocked

# Many connections at once: never beside the server tests (inventory_project/tests/
# test_rolling_restart.py says why).
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.xdist_group("many-connections"),
]

# How long the step that gets the transfer first keeps it locked, so that the other is
# certainly waiting for it rather than arriving after it is done.
HOLD = 0.5


@pytest.fixture
def source():
    return BranchFactory()


@pytest.fixture
def destination():
    return BranchFactory()


def outcome(step: Callable[[], object]) -> str:
    """``done``, or the error's class and message."""
    try:
        step()
    except Exception as error:  # a database error too, shown in the assertion
        return f"{type(error).__name__}: {error}"
    return "done"


def race(*steps: Callable[[], object]) -> list[tuple[str, float]]:
    """Run each step in its own thread, all released at once; each one's outcome and how
    many seconds it took."""
    start = threading.Barrier(len(steps), timeout=30)

    def run(step: Callable[[], object]) -> tuple[str, float]:
        try:
            start.wait()
            began = time.monotonic()
            result = outcome(step)
            return result, time.monotonic() - began
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(steps)) as pool:
        return list(pool.map(run, steps))


@contextmanager
def steps_held_open() -> Iterator[None]:
    """Every transfer step that succeeds waits HOLD seconds before its transaction commits,
    keeping the transfer row locked: its last act, publishing its event to both branches
    (after commit), is slowed."""
    publish = realtime.publish

    def held(name, data, **kwargs):
        if name == TRANSFER_UPDATED:
            time.sleep(HOLD / 2)
        publish(name, data, **kwargs)

    realtime.publish = held
    try:
        yield
    finally:
        realtime.publish = publish


def on_hand(branch, product) -> Decimal:
    level = StockLevel.objects.filter(branch=branch, product=product).first()
    return level.on_hand if level else Decimal(0)


def assert_books_balance() -> None:
    assert conservation_discrepancies() == []
    call_command("verify_ledger")
    call_command("verify_transfers")


def test_two_people_ship_the_same_transfer_once(postgres, actor, source, destination, product):
    # Enough for two shipments: only the transfer's lock stops the second.
    stocked(source, product, 10, actor)
    transfer = sent(actor, source, destination, (product, 4))
    other = AdminFactory()

    def ship(who):
        return lambda: services.ship_transfer(actor=who, transfer_id=transfer.pk)

    with steps_held_open():
        results = race(ship(actor), ship(other))

    outcomes = sorted(result for result, _ in results)
    assert outcomes == [
        f"IllegalTransition: Transfer {transfer.reference} is in transit; it cannot be shipped.",
        "done",
    ]
    # The loser waited for the winner's lock: both really were at it together.
    assert all(seconds >= HOLD * 0.8 for _, seconds in results)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.IN_TRANSIT
    assert transfer.lines.get().shipped == 4
    assert on_hand(source, product) == 6
    assert StockMovement.objects.filter(kind=MovementKind.TRANSFER_OUT).count() == 1
    assert transfer.events.count() == 2
    assert_books_balance()


@pytest.mark.parametrize(
    ("other_line_outstanding", "refusal"),
    [
        (False, "IllegalTransition: Transfer {reference} is received; it cannot be received."),
        (True, "InvalidInput: Only 0 pcs of {sku} are still to arrive; 2 cannot be received."),
    ],
    ids=["the-last-line", "one-of-two-lines"],
)
def test_two_people_receive_the_last_units_once(
    postgres, actor, source, destination, other_line_outstanding, refusal
):
    """When the last units of a line arrive twice at once, one receipt is booked; the other
    finds the transfer received (or, with another line still under way, nothing left of
    this one to arrive)."""
    bolts, nuts = ProductFactory.create_batch(2)
    stocked(source, bolts, 10, actor)
    stocked(source, nuts, 10, actor)
    pairs = [(bolts, 5), (nuts, 3)] if other_line_outstanding else [(bolts, 5)]
    transfer = sent(actor, source, destination, *pairs)
    services.ship_transfer(actor=actor, transfer_id=transfer.pk)
    services.receive_transfer(actor=actor, transfer_id=transfer.pk, quantities={bolts.pk: 3})
    other = AdminFactory()

    def receive_two(who):
        return lambda: services.receive_transfer(
            actor=who, transfer_id=transfer.pk, quantities={bolts.pk: 2}
        )

    with steps_held_open():
        results = race(receive_two(actor), receive_two(other))

    outcomes = sorted(result for result, _ in results)
    assert outcomes == [refusal.format(reference=transfer.reference, sku=bolts.sku), "done"]
    assert all(seconds >= HOLD * 0.8 for _, seconds in results)
    transfer.refresh_from_db()
    expected_status = (
        TransferStatus.PARTIALLY_RECEIVED if other_line_outstanding else TransferStatus.RECEIVED
    )
    assert transfer.status == expected_status
    assert transfer.lines.get(product=bolts).received == 5
    assert on_hand(destination, bolts) == 5
    receipts = StockMovement.objects.filter(kind=MovementKind.TRANSFER_IN, product=bolts)
    assert sorted(receipts.values_list("delta", flat=True)) == [2, 3]
    assert_books_balance()


PER_DIRECTION = 20


def test_transfers_in_opposite_directions_never_deadlock(postgres, actor):
    """Twenty threads each ship and receive a transfer of the same three products from A to
    B while twenty do the same from B to A, every transfer listing the products in its own
    order. Stock rows are locked in primary-key order, whatever the order of the lines, so no
    one waits in a cycle, and every shipment finds enough stock."""
    a, b = BranchFactory.create_batch(2)
    products = ProductFactory.create_batch(3)
    a_to_b = dict(zip(products, (1, 2, 3), strict=True))
    b_to_a = dict(zip(products, (3, 1, 2), strict=True))
    start = {product: 10 + PER_DIRECTION * 3 for product in products}
    for product in products:
        stocked(a, product, start[product], actor)
        stocked(b, product, start[product], actor)
    orders = itertools.cycle(itertools.permutations(products))
    jobs = []
    for _ in range(PER_DIRECTION):
        jobs.append((a, b, [(p, a_to_b[p]) for p in next(orders)]))
        jobs.append((b, a, [(p, b_to_a[p]) for p in next(orders)]))
    ready = threading.Barrier(len(jobs), timeout=60)

    def ship_and_receive(job) -> str:
        from_branch, to_branch, pairs = job
        try:
            transfer = services.send_transfer(
                actor=actor,
                from_branch_id=from_branch.pk,
                to_branch_id=to_branch.pk,
                items=items(*pairs),
            )
            ready.wait()
            shipped = outcome(lambda: services.ship_transfer(actor=actor, transfer_id=transfer.pk))
            if shipped != "done":
                return f"ship: {shipped}"
            received = outcome(
                lambda: services.receive_transfer(
                    actor=actor,
                    transfer_id=transfer.pk,
                    quantities={p.pk: q for p, q in reversed(pairs)},
                )
            )
            return received if received == "done" else f"receive: {received}"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        outcomes = list(pool.map(ship_and_receive, jobs))

    assert outcomes == ["done"] * len(jobs)
    for product in products:
        moved = PER_DIRECTION * (b_to_a[product] - a_to_b[product])
        assert on_hand(a, product) == start[product] + moved
        assert on_hand(b, product) == start[product] - moved
    movements = StockMovement.objects.filter(
        kind__in=(MovementKind.TRANSFER_OUT, MovementKind.TRANSFER_IN)
    )
    assert movements.count() == len(jobs) * 3 * 2
    assert_books_balance()


def test_the_check_reads_one_snapshot(postgres, actor, source, destination, product):
    """A transfer that ships while the check runs, between its reading of the ledger and of
    the transfer lines, is not taken for stock gone missing: the check sees the database as
    it was when it began."""
    stocked(source, product, 10, actor)
    transfer = sent(actor, source, destination, (product, 4))
    shipped_meanwhile = []

    def ship_before_reading_lines(execute, sql, params, many, context):
        if "in_transit" in sql and not shipped_meanwhile:
            ship = lambda: services.ship_transfer(actor=actor, transfer_id=transfer.pk)  # noqa: E731
            shipped_meanwhile.extend(result for result, _ in race(ship))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(ship_before_reading_lines):
        found = conservation_discrepancies()

    assert shipped_meanwhile == ["done"]
    assert found == []
    assert on_hand(source, product) == 6
    assert_books_balance()
