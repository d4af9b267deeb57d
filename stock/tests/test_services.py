import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from accounts.tests.factories import MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.models import MAX_QUANTITY, Unit
from catalog.tests.factories import ProductFactory
from inventory_project.kernel.errors import DomainError, InvalidInput
from stock import services
from stock.errors import (
    InactiveBranch,
    InactiveProduct,
    InsufficientStock,
    InvalidQuantity,
    UnknownBranch,
    UnknownProduct,
)
from stock.models import AdjustmentReason, MovementKind, StockLevel, StockMovement
from stock.signals import stock_level_changed

pytestmark = pytest.mark.usefixtures("postgres")


def receive(actor, branch, product, quantity, **kwargs):
    return services.receive_stock(
        actor=actor, branch_id=branch.id, product_id=product.id, quantity=quantity, **kwargs
    )


def level_of(branch, product) -> StockLevel:
    return StockLevel.objects.get(branch=branch, product=product)


def assert_untouched(branch, product, on_hand, movements):
    level = StockLevel.objects.filter(branch=branch, product=product).first()
    assert (level.on_hand if level else Decimal("0")) == Decimal(on_hand)
    assert StockMovement.objects.filter(branch=branch, product=product).count() == movements


# receive -----------------------------------------------------------------------------------


def test_receive_creates_the_level_and_a_receipt(actor, branch, product):
    movement = receive(actor, branch, product, "12", note="  delivery 4711 ")

    level = level_of(branch, product)
    assert level.on_hand == Decimal("12")
    assert level.version == 1
    assert movement.kind == MovementKind.RECEIPT
    assert movement.delta == Decimal("12")
    assert movement.on_hand_after == Decimal("12")
    assert movement.version == 1
    assert movement.actor == actor
    assert movement.branch == branch
    assert movement.product == product
    assert movement.note == "delivery 4711"


def test_receive_adds_to_existing_stock_and_bumps_version(actor, branch, product):
    receive(actor, branch, product, 5)
    movement = receive(actor, branch, product, Decimal("7"))

    assert movement.on_hand_after == Decimal("12")
    assert level_of(branch, product).version == 2


def test_receive_accepts_fractional_quantities_for_measured_units(actor, branch):
    cheese = ProductFactory(unit=Unit.KILOGRAM)

    receive(actor, branch, cheese, "2.375")

    assert level_of(branch, cheese).on_hand == Decimal("2.375")


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (0, "greater than zero"),
        ("-3", "greater than zero"),
        ("abc", "must be a number"),
        ("", "must be a number"),
        (None, "must be a number"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
        (1.5, "not float"),
        (True, "not bool"),
        ("0.0001", "more than 3 decimal places"),
        (MAX_QUANTITY + 1, "larger than the largest quantity"),
        ("1e30", "larger than the largest quantity"),
    ],
)
def test_receive_refuses_bad_quantities(actor, branch, product, quantity, message):
    with pytest.raises(InvalidQuantity, match=message):
        receive(actor, branch, product, quantity)

    assert_untouched(branch, product, 0, 0)
    assert not StockLevel.objects.exists()


def test_receive_refuses_fractions_of_countable_units(actor, branch, product):
    with pytest.raises(InvalidQuantity, match="whole number of pieces"):
        receive(actor, branch, product, "1.5")

    assert_untouched(branch, product, 0, 0)


def test_receive_refuses_an_inactive_product(actor, branch):
    retired = ProductFactory(is_active=False)

    with pytest.raises(InactiveProduct, match="inactive"):
        receive(actor, branch, retired, 1)

    assert_untouched(branch, retired, 0, 0)


def test_no_movement_at_an_inactive_branch(actor, branch, product):
    receive(actor, branch, product, 4)
    branch.is_active = False
    branch.save()

    with pytest.raises(InactiveBranch, match=branch.code):
        services.issue_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=1)

    assert_untouched(branch, product, 4, 1)


def test_receive_refuses_an_unknown_branch(actor, product):
    with pytest.raises(UnknownBranch):
        services.receive_stock(
            actor=actor, branch_id=uuid.uuid4(), product_id=product.id, quantity=1
        )

    assert not StockLevel.objects.exists()


def test_receive_refuses_an_unknown_product(actor, branch):
    with pytest.raises(UnknownProduct):
        services.receive_stock(
            actor=actor, branch_id=branch.id, product_id=str(uuid.uuid4()), quantity=1
        )

    assert not StockLevel.objects.exists()


@pytest.mark.parametrize("product_exists", [True, False], ids=["known", "unknown product"])
def test_a_hidden_inactive_branch_is_refused_as_if_it_did_not_exist(
    branch, product, product_exists
):
    staff = MembershipFactory(branch=branch, role=Role.STAFF).user
    hidden = BranchFactory(is_active=False)
    product_id = product.id if product_exists else uuid.uuid4()

    def refusal(branch_id):
        with pytest.raises(DomainError) as caught:
            services.receive_stock(
                actor=staff, branch_id=branch_id, product_id=product_id, quantity=1
            )
        error = caught.value
        return type(error), str(error).replace(str(branch_id), "<id>"), error.field

    assert refusal(hidden.id) == refusal(uuid.uuid4())
    assert refusal(hidden.id)[0] is UnknownBranch


def test_a_malformed_id_is_an_unknown_object(actor, product):
    with pytest.raises(UnknownBranch, match="not-a-uuid"):
        services.receive_stock(
            actor=actor, branch_id="not-a-uuid", product_id=product.id, quantity=1
        )


def test_a_note_longer_than_the_ledger_holds_is_refused(actor, branch, product):
    with pytest.raises(InvalidInput, match="longer than 500"):
        receive(actor, branch, product, 1, note="x" * 501)

    assert_untouched(branch, product, 0, 0)


# one statement for the common write ---------------------------------------------------------


def statements(captured) -> list[str]:
    """The statements sent, by their first words, savepoints of the test's own
    transaction left out."""
    return [
        " ".join(query["sql"].split()[:3])
        for query in captured.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


WRITES = {
    "receive": lambda who, branch, product: receive(who, branch, product, 2),
    "issue": lambda who, branch, product: services.issue_stock(
        actor=who, branch_id=branch.id, product_id=product.id, quantity=2
    ),
    "adjust": lambda who, branch, product: services.adjust_stock(
        actor=who, branch_id=branch.id, product_id=product.id, delta=-2, reason="DAMAGED"
    ),
}


@pytest.mark.parametrize("kind", WRITES)
def test_a_single_write_to_a_held_level_is_one_update_and_one_insert(branch, product, kind):
    manager = MembershipFactory(branch=branch, role=Role.MANAGER).user
    receive(manager, branch, product, 5)
    # As a new request has them: the rights at the branch not yet asked.
    manager = User.objects.get(pk=manager.pk)

    with CaptureQueriesContext(connection) as captured:
        movement = WRITES[kind](manager, branch, product)

    # The right at the branch, then the level changed and locked in one statement (no
    # SELECT ... FOR UPDATE before it), then the ledger entry.
    sent = statements(captured)
    assert len(sent) == 3
    assert sent[0].startswith("SELECT")
    assert sent[1:] == ["UPDATE stock_stocklevel AS", 'INSERT INTO "stock_stockmovement"']
    level = level_of(branch, product)
    assert (level.on_hand, level.version) == (movement.on_hand_after, movement.version)
    assert (level.on_hand, level.version) == (5 + movement.delta, 2)


def test_what_a_single_write_answers_needs_no_further_query(actor, branch, product):
    receive(actor, branch, product, 5)
    movement = receive(actor, branch, product, 1)

    with CaptureQueriesContext(connection) as captured:
        said = (
            movement.branch.code,
            movement.product.sku,
            movement.product.name,
            movement.product.unit,
            movement.stock_level.threshold,
            movement.created_at,
        )

    assert captured.captured_queries == []
    assert said[0] == branch.code


def test_a_product_field_the_write_did_not_read_is_loaded_not_guessed(actor, branch):
    product = ProductFactory(cost_price=Decimal("3.50"))
    receive(actor, branch, product, 5)

    movement = receive(actor, branch, product, 1)

    assert movement.product.cost_price == Decimal("3.50")


@pytest.mark.parametrize(
    ("change", "quantity", "error"),
    [
        ({"product": {"is_active": False}}, "1", InactiveProduct),
        ({"branch": {"is_active": False}}, "1", InactiveBranch),
        ({}, "1.5", InvalidQuantity),
        ({}, str(MAX_QUANTITY), InvalidQuantity),
    ],
    ids=["inactive-product", "inactive-branch", "fraction-of-pieces", "beyond-the-largest"],
)
def test_a_receipt_to_a_held_level_keeps_every_rule(
    actor, branch, product, change, quantity, error
):
    receive(actor, branch, product, 4)
    for name, fields in change.items():
        target = {"product": product, "branch": branch}[name]
        type(target).objects.filter(pk=target.pk).update(**fields)

    with pytest.raises(error):
        receive(actor, branch, product, quantity)

    assert_untouched(branch, product, 4, 1)


# issue -------------------------------------------------------------------------------------


def test_issue_takes_stock_out(actor, branch, product):
    receive(actor, branch, product, 10)

    movement = services.issue_stock(
        actor=actor, branch_id=branch.id, product_id=product.id, quantity="4", note="order 17"
    )

    assert movement.kind == MovementKind.ISSUE
    assert movement.delta == Decimal("-4")
    assert movement.on_hand_after == Decimal("6")
    assert level_of(branch, product).on_hand == Decimal("6")


def test_issue_may_empty_the_shelf(actor, branch, product):
    receive(actor, branch, product, 3)

    services.issue_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=3)

    assert level_of(branch, product).on_hand == 0


def test_issuing_more_than_on_hand_changes_nothing(actor, branch, product):
    receive(actor, branch, product, 3)

    with pytest.raises(
        InsufficientStock, match=f"{branch.code} holds 3 pcs of {product.sku}; 4 cannot leave"
    ):
        services.issue_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=4)

    assert_untouched(branch, product, 3, 1)
    assert level_of(branch, product).version == 1


def test_issuing_a_product_never_stocked_changes_nothing(actor, branch, product):
    with pytest.raises(InsufficientStock):
        services.issue_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=1)

    assert not StockLevel.objects.exists()


def test_issue_of_an_inactive_product_clears_remaining_stock(actor, branch, product):
    receive(actor, branch, product, 2)
    product.is_active = False
    product.save()

    services.issue_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=2)

    assert level_of(branch, product).on_hand == 0


@pytest.mark.parametrize("quantity", [0, "-1", "x", "0.5"])
def test_issue_refuses_bad_quantities(actor, branch, product, quantity):
    receive(actor, branch, product, 5)

    with pytest.raises(InvalidQuantity):
        services.issue_stock(
            actor=actor, branch_id=branch.id, product_id=product.id, quantity=quantity
        )

    assert_untouched(branch, product, 5, 1)


# adjust ------------------------------------------------------------------------------------


def test_adjust_down_records_reason_and_note(actor, branch, product):
    receive(actor, branch, product, 10)

    movement = services.adjust_stock(
        actor=actor,
        branch_id=branch.id,
        product_id=product.id,
        delta="-2",
        reason=AdjustmentReason.DAMAGED,
        note="crushed pallet",
    )

    assert movement.kind == MovementKind.ADJUSTMENT
    assert movement.delta == Decimal("-2")
    assert movement.reason == AdjustmentReason.DAMAGED
    assert movement.note == "crushed pallet"
    assert level_of(branch, product).on_hand == Decimal("8")


def test_adjust_up_adds_found_stock(actor, branch, product):
    movement = services.adjust_stock(
        actor=actor,
        branch_id=branch.id,
        product_id=product.id,
        delta=3,
        reason=AdjustmentReason.FOUND,
    )

    assert movement.on_hand_after == Decimal("3")


def test_adjust_below_zero_is_insufficient_stock(actor, branch, product):
    receive(actor, branch, product, 1)

    with pytest.raises(InsufficientStock):
        services.adjust_stock(
            actor=actor,
            branch_id=branch.id,
            product_id=product.id,
            delta=-2,
            reason=AdjustmentReason.LOST,
        )

    assert_untouched(branch, product, 1, 1)


def test_adjust_refuses_a_zero_delta(actor, branch, product):
    with pytest.raises(InvalidQuantity, match="must not be zero"):
        services.adjust_stock(
            actor=actor,
            branch_id=branch.id,
            product_id=product.id,
            delta=0,
            reason=AdjustmentReason.CORRECTION,
        )


def test_adjust_refuses_an_unknown_reason(actor, branch, product):
    with pytest.raises(InvalidInput, match="not one of"):
        services.adjust_stock(
            actor=actor, branch_id=branch.id, product_id=product.id, delta=1, reason="WHIM"
        )

    assert_untouched(branch, product, 0, 0)


def test_adjust_for_another_reason_needs_a_note(actor, branch, product):
    with pytest.raises(InvalidInput, match="needs a note"):
        services.adjust_stock(
            actor=actor,
            branch_id=branch.id,
            product_id=product.id,
            delta=1,
            reason=AdjustmentReason.OTHER,
            note="   ",
        )


# count -------------------------------------------------------------------------------------


def test_count_sets_on_hand_and_records_the_difference(actor, branch, product):
    receive(actor, branch, product, 10)

    movement = services.count_stock(
        actor=actor, branch_id=branch.id, product_id=product.id, counted="7"
    )

    assert movement.kind == MovementKind.COUNT
    assert movement.delta == Decimal("-3")
    assert movement.on_hand_after == Decimal("7")
    assert level_of(branch, product).on_hand == Decimal("7")


def test_count_above_the_books_adds_the_surplus(actor, branch, product):
    receive(actor, branch, product, 2)

    movement = services.count_stock(
        actor=actor, branch_id=branch.id, product_id=product.id, counted=5
    )

    assert movement.delta == Decimal("3")


def test_count_confirming_the_books_is_recorded_with_zero_delta(actor, branch, product):
    receive(actor, branch, product, 4)

    movement = services.count_stock(
        actor=actor, branch_id=branch.id, product_id=product.id, counted=4
    )

    assert movement.delta == 0
    assert level_of(branch, product).version == 2


def test_count_of_zero_empties_the_level(actor, branch, product):
    receive(actor, branch, product, 4)

    services.count_stock(actor=actor, branch_id=branch.id, product_id=product.id, counted=0)

    assert level_of(branch, product).on_hand == 0


@pytest.mark.parametrize("counted", ["-1", "lots", "2.5"])
def test_count_refuses_bad_quantities(actor, branch, product, counted):
    receive(actor, branch, product, 4)

    with pytest.raises(InvalidQuantity):
        services.count_stock(
            actor=actor, branch_id=branch.id, product_id=product.id, counted=counted
        )

    assert_untouched(branch, product, 4, 1)


# thresholds --------------------------------------------------------------------------------


def test_threshold_defaults_to_the_products(actor, branch, product):
    receive(actor, branch, product, 5)

    level = level_of(branch, product)

    assert level.low_stock_threshold is None
    assert level.threshold == product.low_stock_threshold == Decimal("10")
    assert level.is_low


def test_set_threshold_creates_the_level_without_a_movement(actor, branch, product):
    level = services.set_low_stock_threshold(
        actor=actor, branch_id=branch.id, product_id=product.id, threshold="3"
    )

    assert level.threshold == Decimal("3")
    assert level.on_hand == 0
    assert level.version == 0
    assert not StockMovement.objects.exists()


def test_clearing_the_threshold_inherits_the_products_again(actor, branch, product):
    services.set_low_stock_threshold(
        actor=actor, branch_id=branch.id, product_id=product.id, threshold=3
    )

    level = services.set_low_stock_threshold(
        actor=actor, branch_id=branch.id, product_id=product.id, threshold=None
    )

    assert level_of(branch, product).low_stock_threshold is None
    assert level.threshold == product.low_stock_threshold


@pytest.mark.parametrize("threshold", ["-1", "many", "0.5"])
def test_set_threshold_refuses_bad_values(actor, branch, product, threshold):
    with pytest.raises(InvalidQuantity):
        services.set_low_stock_threshold(
            actor=actor, branch_id=branch.id, product_id=product.id, threshold=threshold
        )

    assert not StockLevel.objects.exists()


# the stock_level_changed signal -------------------------------------------------------------


@pytest.fixture
def signals():
    received = []

    def listener(sender, level, movement, **kwargs):
        received.append((level, movement))

    stock_level_changed.connect(listener)
    yield received
    stock_level_changed.disconnect(listener)


def test_every_movement_sends_stock_level_changed_once(actor, branch, product, signals):
    movement = receive(actor, branch, product, 5)

    assert len(signals) == 1
    level, sent_movement = signals[0]
    assert sent_movement == movement
    assert level.on_hand == Decimal("5")
    assert level.version == 1


def test_a_threshold_change_sends_stock_level_changed_without_movement(
    actor, branch, product, signals
):
    services.set_low_stock_threshold(
        actor=actor, branch_id=branch.id, product_id=product.id, threshold=2
    )

    assert [movement for _, movement in signals] == [None]


def test_a_refused_movement_sends_nothing(actor, branch, product, signals):
    with pytest.raises(DomainError):
        services.issue_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=1)

    assert signals == []


def test_a_failing_listener_rolls_the_movement_back(actor, branch, product):
    def broken(**kwargs):
        raise RuntimeError("listener failed")

    stock_level_changed.connect(broken)
    try:
        with pytest.raises(RuntimeError):
            receive(actor, branch, product, 5)
    finally:
        stock_level_changed.disconnect(broken)

    assert_untouched(branch, product, 0, 0)


# record_stock_batch ------------------------------------------------------------------------


def batch(actor, branch, kind, lines):
    return services.record_stock_batch(
        actor=actor,
        branch_id=branch.id,
        kind=kind,
        lines=[services.MovementLine(**line) for line in lines],
    )


def test_a_batch_writes_one_movement_per_line_in_order(actor, branch):
    products = ProductFactory.create_batch(3)

    movements = batch(
        actor,
        branch,
        MovementKind.RECEIPT,
        [{"product_id": p.id, "quantity": n + 1} for n, p in enumerate(products)],
    )

    assert [m.product_id for m in movements] == [p.id for p in products]
    assert [level_of(branch, p).on_hand for p in products] == [1, 2, 3]
    assert all(level_of(branch, p).version == 1 for p in products)


def test_a_batch_count_sets_each_level(actor, branch):
    first, second = ProductFactory.create_batch(2)
    receive(actor, branch, first, 10)

    movements = batch(
        actor,
        branch,
        MovementKind.COUNT,
        [{"product_id": first.id, "quantity": 7}, {"product_id": second.id, "quantity": 2}],
    )

    assert [m.delta for m in movements] == [Decimal("-3"), Decimal("2")]
    assert level_of(branch, first).on_hand == 7
    assert level_of(branch, second).on_hand == 2


def test_a_batch_fails_whole_when_one_line_lacks_stock(actor, branch):
    first, second = ProductFactory.create_batch(2)
    receive(actor, branch, first, 5)

    with pytest.raises(InsufficientStock, match=r"^Line 2: ") as raised:
        batch(
            actor,
            branch,
            MovementKind.ISSUE,
            [{"product_id": first.id, "quantity": 5}, {"product_id": second.id, "quantity": 1}],
        )

    assert raised.value.field == "lines.1.quantity"
    assert_untouched(branch, first, 5, 1)
    assert_untouched(branch, second, 0, 0)


def test_a_batch_names_an_unknown_product_by_line(actor, branch, product):
    with pytest.raises(UnknownProduct) as raised:
        batch(
            actor,
            branch,
            MovementKind.RECEIPT,
            [
                {"product_id": product.id, "quantity": 1},
                {"product_id": uuid.uuid4(), "quantity": 1},
            ],
        )

    assert raised.value.field == "lines.1.product"
    assert not StockLevel.objects.exists()


def test_a_batch_refuses_a_product_twice(actor, branch, product):
    with pytest.raises(InvalidInput, match="Line 1 is for the same product") as raised:
        batch(
            actor,
            branch,
            MovementKind.RECEIPT,
            [{"product_id": product.id, "quantity": 1}, {"product_id": product.id, "quantity": 2}],
        )

    assert raised.value.field == "lines.1.product"


def test_a_batch_refuses_reasons_outside_adjustments(actor, branch, product):
    with pytest.raises(InvalidInput, match="Only adjustments take a reason"):
        batch(
            actor,
            branch,
            MovementKind.RECEIPT,
            [{"product_id": product.id, "quantity": 1, "reason": AdjustmentReason.FOUND}],
        )


@pytest.mark.parametrize("kind", [MovementKind.TRANSFER_IN, MovementKind.TRANSFER_OUT, "GIFT"])
def test_a_batch_takes_only_the_four_stock_kinds(actor, branch, product, kind):
    with pytest.raises(InvalidInput, match="is not one of") as raised:
        batch(actor, branch, kind, [{"product_id": product.id, "quantity": 1}])

    assert raised.value.field == "kind"


def test_a_batch_needs_lines_and_has_a_limit(actor, branch, product):
    with pytest.raises(InvalidInput, match="at least one line"):
        batch(actor, branch, MovementKind.RECEIPT, [])
    too_many = [{"product_id": uuid.uuid4(), "quantity": 1}] * (services.MAX_BATCH_LINES + 1)
    with pytest.raises(InvalidInput, match="at most"):
        batch(actor, branch, MovementKind.RECEIPT, too_many)


def test_a_batch_announces_every_change(actor, branch):
    products = ProductFactory.create_batch(2)
    seen = []

    def listener(sender, level, movement, **kwargs):
        seen.append((level.product_id, movement.on_hand_after))

    stock_level_changed.connect(listener)
    try:
        batch(
            actor,
            branch,
            MovementKind.RECEIPT,
            [{"product_id": p.id, "quantity": 2} for p in products],
        )
    finally:
        stock_level_changed.disconnect(listener)

    assert seen == [(p.id, Decimal("2")) for p in products]


def test_a_threshold_set_or_cleared_is_announced_to_the_branch(
    actor, branch, product, published_events
):
    receive(actor, branch, product, 4)
    published_events.clear()

    services.set_low_stock_threshold(
        actor=actor, branch_id=branch.id, product_id=product.id, threshold=6
    )
    services.set_low_stock_threshold(
        actor=actor, branch_id=branch.id, product_id=product.id, threshold=6
    )

    [event] = published_events
    assert event["type"] == "stock.threshold_changed"
    assert event["branch"] == str(branch.pk)
    assert event["data"]["threshold"] == "6.000"
    assert event["data"]["previous_threshold"] == f"{product.low_stock_threshold:.3f}"
    assert event["data"]["is_low"] is True
