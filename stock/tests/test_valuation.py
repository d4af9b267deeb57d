"""Moving average cost per level (design: "Valuation"): what receipts with a cost do to the
level's average, and what every other movement leaves of it."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.kernel.errors import InvalidInput
from stock import services
from stock.models import MovementKind, StockLevel
from stock.services import MovementLine, average_cost_after
from transfers import services as transfers


def receive(actor, branch, product, quantity, cost=None):
    return services.receive_stock(
        actor=actor,
        branch_id=branch.pk,
        product_id=product.pk,
        quantity=Decimal(quantity),
        unit_cost=None if cost is None else Decimal(cost),
    )


def receive_in_batch(actor, branch, product, quantity, cost=None):
    """The same receipt through the general path (a batch of one locks and saves the level)."""
    return services.record_stock_batch(
        actor=actor,
        branch_id=branch.pk,
        kind=MovementKind.RECEIPT,
        lines=[MovementLine(product_id=product.pk, quantity=Decimal(quantity), unit_cost=cost)],
    )[0]


def average(branch, product):
    return StockLevel.objects.get(branch=branch, product=product).average_cost


@pytest.fixture(params=["in place", "general"])
def receive_by(request, postgres):
    return receive if request.param == "in place" else receive_in_batch


def test_a_first_receipt_with_a_cost_sets_the_average_to_it(actor, branch, product, receive_by):
    movement = receive_by(actor, branch, product, "10", "2.5")

    assert average(branch, product) == Decimal("2.5000")
    assert (movement.unit_cost, movement.average_cost_after) == (Decimal("2.5"), Decimal("2.5"))


def test_receipts_at_different_costs_average_by_quantity(actor, branch, product, receive_by):
    receive_by(actor, branch, product, "10", "2")
    movement = receive_by(actor, branch, product, "30", "3")

    assert average(branch, product) == Decimal("2.7500")
    assert movement.average_cost_after == Decimal("2.7500")
    assert movement.unit_cost == Decimal("3")


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [("0.0001", "0.0002", "0.0002"), ("0.0002", "0.0003", "0.0002")],
)
def test_the_average_rounds_half_to_even(
    actor, branch, product, receive_by, first, second, expected
):
    receive_by(actor, branch, product, "1", first)
    receive_by(actor, branch, product, "1", second)

    assert average(branch, product) == Decimal(expected)


def test_without_an_average_the_cost_price_stands_in(actor, branch, receive_by):
    product = ProductFactory(cost_price=Decimal("1.00"))
    receive_by(actor, branch, product, "10")
    receive_by(actor, branch, product, "10", "3")

    assert average(branch, product) == Decimal("2.0000")


def test_a_receipt_without_cost_enters_at_the_current_average(actor, branch, product, receive_by):
    receive_by(actor, branch, product, "10", "4")
    movement = receive_by(actor, branch, product, "10")

    assert average(branch, product) == Decimal("4.0000")
    assert (movement.unit_cost, movement.average_cost_after) == (Decimal("4"), Decimal("4"))


def test_a_receipt_without_cost_into_a_level_without_average_leaves_it_empty(
    actor, branch, product, receive_by
):
    movement = receive_by(actor, branch, product, "10")

    assert average(branch, product) is None
    assert (movement.unit_cost, movement.average_cost_after) == (None, None)


def test_issues_adjustments_and_counts_leave_the_average(actor, branch, product):
    receive(actor, branch, product, "10", "4.1234")
    ids = {"actor": actor, "branch_id": branch.pk, "product_id": product.pk}
    moved = [
        services.issue_stock(**ids, quantity=Decimal("3")),
        services.adjust_stock(**ids, delta=Decimal("2"), reason="FOUND"),
        services.count_stock(**ids, counted=Decimal("20")),
        services.count_stock(**ids, counted=Decimal("1")),
    ]

    assert average(branch, product) == Decimal("4.1234")
    for movement in moved:
        assert movement.unit_cost == movement.average_cost_after == Decimal("4.1234")


def test_an_empty_level_takes_the_next_cost_whole(actor, branch, product, receive_by):
    receive_by(actor, branch, product, "10", "2")
    services.issue_stock(
        actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=Decimal("10")
    )
    receive_by(actor, branch, product, "5", "7")

    assert average(branch, product) == Decimal("7.0000")


def test_transfers_carry_the_average_from_source_to_destination(actor, product):
    source, destination = BranchFactory(), BranchFactory()
    receive(actor, source, product, "20", "4")
    receive(actor, destination, product, "10", "2")
    transfer = transfers.send_transfer(
        actor=actor,
        from_branch_id=source.pk,
        to_branch_id=destination.pk,
        items=[transfers.TransferItem(product_id=product.pk, quantity=Decimal("5"))],
    )
    transfer = transfers.ship_transfer(actor=actor, transfer_id=transfer.pk)
    line = transfer.lines.get()

    assert line.unit_cost == Decimal("4.0000")

    transfers.receive_transfer(
        actor=actor, transfer_id=transfer.pk, quantities={product.pk: Decimal("5")}
    )

    assert average(source, product) == Decimal("4.0000")
    assert average(destination, product) == Decimal("2.6667")


@pytest.mark.parametrize("kind", ["ISSUE", "ADJUSTMENT", "COUNT"])
def test_only_receipts_take_a_unit_cost(actor, branch, product, kind):
    receive(actor, branch, product, "10")
    line = MovementLine(
        product_id=product.pk,
        quantity=Decimal("1"),
        unit_cost=Decimal("1"),
        reason="FOUND" if kind == "ADJUSTMENT" else "",
    )

    with pytest.raises(InvalidInput) as refused:
        services.record_stock_batch(actor=actor, branch_id=branch.pk, kind=kind, lines=[line])

    assert refused.value.field == "lines.0.unit_cost"


@pytest.mark.parametrize("cost", ["NaN", "1e999", "-1", "abc", "0.00001", "", 1.5, "Infinity"])
def test_a_unit_cost_that_is_no_cost_is_refused(actor, branch, product, cost):
    with pytest.raises(InvalidInput) as refused:
        services.receive_stock(
            actor=actor, branch_id=branch.pk, product_id=product.pk, quantity="1", unit_cost=cost
        )

    assert refused.value.field == "unit_cost"
    assert not StockLevel.objects.filter(branch=branch, product=product).exists()


costs = st.decimals(min_value=0, max_value=Decimal("9999"), places=4)
quantities = st.integers(min_value=1, max_value=10**6).map(Decimal)


@settings(max_examples=300, deadline=None)
@given(on_hand=quantities, before=costs, quantity=quantities, cost=costs)
def test_the_average_is_the_weighted_mean_within_half_a_ten_thousandth(
    on_hand, before, quantity, cost
):
    after = average_cost_after(
        on_hand=on_hand,
        average_cost=before,
        cost_price=Decimal(0),
        quantity=quantity,
        unit_cost=cost,
    )
    exact = (on_hand * before + quantity * cost) / (on_hand + quantity)

    assert abs(after - exact) <= Decimal("0.00005")
    assert min(before, cost) <= after <= max(before, cost)


steps = st.lists(
    st.tuples(st.sampled_from(["receive", "issue"]), st.integers(1, 50), st.none() | costs),
    min_size=1,
    max_size=8,
)


# Each example writes to branches and a product of its own.
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
def test_the_in_place_and_the_general_path_agree(postgres, steps):
    from accounts.tests.factories import AdminFactory

    actor, product = AdminFactory(), ProductFactory(cost_price=Decimal("1.37"))
    in_place, general = BranchFactory(), BranchFactory()
    for action, quantity, cost in steps:
        ledgers = []
        for branch, write in ((in_place, receive), (general, receive_in_batch)):
            held = StockLevel.objects.filter(branch=branch, product=product).first()
            if action == "receive":
                ledgers.append(write(actor, branch, product, quantity, cost))
            elif held and held.on_hand >= quantity:
                ids = {"actor": actor, "branch_id": branch.pk, "product_id": product.pk}
                if write is receive:
                    ledgers.append(services.issue_stock(**ids, quantity=Decimal(quantity)))
                else:
                    ledgers.append(
                        services.record_stock_batch(
                            actor=actor,
                            branch_id=branch.pk,
                            kind=MovementKind.ISSUE,
                            lines=[MovementLine(product_id=product.pk, quantity=quantity)],
                        )[0]
                    )
        if ledgers:
            one, other = ledgers
            assert (one.unit_cost, one.average_cost_after, one.on_hand_after) == (
                other.unit_cost,
                other.average_cost_after,
                other.on_hand_after,
            )
        levels = StockLevel.objects.filter(product=product)
        assert levels.filter(branch=in_place).values_list("average_cost", "on_hand").first() == (
            levels.filter(branch=general).values_list("average_cost", "on_hand").first()
        )


def test_goods_without_an_average_arrive_at_the_destinations_own(actor, product):
    source, destination = BranchFactory(), BranchFactory()
    receive(actor, source, product, "20")
    receive(actor, destination, product, "10", "2")
    transfer = transfers.send_transfer(
        actor=actor,
        from_branch_id=source.pk,
        to_branch_id=destination.pk,
        items=[transfers.TransferItem(product_id=product.pk, quantity=Decimal("5"))],
    )
    transfer = transfers.ship_transfer(actor=actor, transfer_id=transfer.pk)

    assert transfer.lines.get().unit_cost is None

    transfers.receive_transfer(
        actor=actor, transfer_id=transfer.pk, quantities={product.pk: Decimal("5")}
    )

    assert average(destination, product) == Decimal("2.0000")
