"""The report selectors (stock.reports), each checked against the ledger by a computation of
its own: stock as of a moment is the sum of the deltas before it, movements summed per period
are the rows counted one by one, the reorder suggestion worked out again from its rule."""

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import AdminFactory
from branches.tests.factories import BranchFactory
from catalog.models import Unit
from catalog.tests.factories import CategoryFactory, ProductFactory
from stock import reports, selectors, services
from stock.models import AdjustmentReason, MovementKind, StockMovement

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def admin():
    return AdminFactory()


def at(moment: datetime.datetime):
    """Movements written inside are stamped ``moment``."""
    return mock.patch("django.utils.timezone.now", return_value=moment)


def receive(admin, branch, product, quantity, moment=None, cost=None):
    with at(moment or datetime.datetime.now(UTC)):
        return services.receive_stock(
            actor=admin,
            branch_id=branch.pk,
            product_id=product.pk,
            quantity=quantity,
            unit_cost=cost,
        )


def issue(admin, branch, product, quantity, moment=None):
    with at(moment or datetime.datetime.now(UTC)):
        return services.issue_stock(
            actor=admin, branch_id=branch.pk, product_id=product.pk, quantity=quantity
        )


def moving_average(on_hand, average, cost_price, quantity, cost) -> Decimal:
    """The design's rule, worked out again: the weighted mean, rounded half to even."""
    if on_hand == 0:
        return cost
    before = cost_price if average is None else average
    mean = (on_hand * before + quantity * cost) / (on_hand + quantity)
    return mean.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


def held_before(until, branches) -> dict[tuple, dict]:
    """Independently: per (branch, category), what the deltas before ``until`` add up to, at
    the moving average cost replayed from the costs the receipts came with."""
    per_level: dict = defaultdict(lambda: [Decimal(0), None])
    products = {}
    ledger = StockMovement.objects.filter(branch__in=branches).select_related("product")
    for movement in sorted(ledger, key=lambda m: (m.created_at, m.version)):
        if until is None or movement.created_at < until:
            level = per_level[(movement.branch_id, movement.product_id)]
            on_hand, average = level
            costed = movement.kind in (MovementKind.RECEIPT, MovementKind.TRANSFER_IN)
            if costed and movement.delta > 0 and movement.unit_cost is not None:
                level[1] = moving_average(
                    on_hand,
                    average,
                    movement.product.cost_price,
                    movement.delta,
                    movement.unit_cost,
                )
            level[0] = on_hand + movement.delta
            products[movement.product_id] = movement.product
    found: dict = defaultdict(lambda: {"products": 0, "quantity": Decimal(0), "value": Decimal(0)})
    for (branch_id, product_id), (quantity, average) in per_level.items():
        if quantity > 0:
            product = products[product_id]
            row = found[(branch_id, product.category_id)]
            row["products"] += 1
            row["quantity"] += quantity
            row["value"] += quantity * (product.cost_price if average is None else average)
    for row in found.values():
        row["value"] = row["value"].quantize(Decimal("0.01"))
    return dict(found)


def as_reported(rows) -> dict[tuple, dict]:
    return {
        (row.branch_id, row.category_id): {
            "products": row.products,
            "quantity": row.quantity,
            "value": row.value,
        }
        for row in rows
    }


# Stock value as of a day -------------------------------------------------------------------


def test_stock_as_of_a_past_day_is_the_sum_of_the_movements_up_to_its_end(admin):
    here, there = BranchFactory(), BranchFactory()
    tools, food = CategoryFactory(), CategoryFactory()
    hammer = ProductFactory(category=tools, cost_price=Decimal("4.50"))
    saw = ProductFactory(category=tools, cost_price=Decimal("12.00"))
    bread = ProductFactory(category=food, cost_price=Decimal("0.80"), unit=Unit.KILOGRAM)
    day = [datetime.datetime(2026, 3, d, 12, tzinfo=UTC) for d in range(1, 6)]
    receive(admin, here, hammer, "10", day[0], cost="4.1")
    receive(admin, here, saw, "3", day[0])
    receive(admin, there, bread, "7.250", day[1], cost="0.7333")
    issue(admin, here, hammer, "4", day[2])
    issue(admin, here, saw, "3", day[2])
    receive(admin, there, hammer, "5", day[3], cost="3.3333")
    receive(admin, here, hammer, "3", day[3], cost="6")
    issue(admin, there, bread, "2.5", day[4])

    for until in [
        day[0] + datetime.timedelta(hours=1),
        day[2] + datetime.timedelta(hours=1),
        day[4],
    ]:
        rows = reports.stock_value([here, there], until=until)
        assert as_reported(rows) == held_before(until, [here, there]), until


def test_stock_now_is_what_the_levels_hold(admin, branch):
    product = ProductFactory(cost_price=Decimal("2.00"))
    receive(admin, branch, product, "9")
    issue(admin, branch, product, "2")

    (row,) = reports.stock_value([branch])

    assert (row.products, row.quantity, row.value) == (1, Decimal("7.000"), Decimal("14.00"))
    assert as_reported([row]) == held_before(None, [branch])


def test_a_past_day_is_valued_at_the_average_cost_of_then(admin, branch):
    product = ProductFactory(cost_price=Decimal("9.00"))
    receive(admin, branch, product, "10", datetime.datetime(2026, 3, 1, tzinfo=UTC), cost="2")
    receive(admin, branch, product, "10", datetime.datetime(2026, 3, 3, tzinfo=UTC), cost="4")

    (then,) = reports.stock_value([branch], until=datetime.datetime(2026, 3, 2, tzinfo=UTC))
    (now,) = reports.stock_value([branch])

    assert (then.quantity, then.value) == (Decimal("10.000"), Decimal("20.00"))
    assert (now.quantity, now.value) == (Decimal("20.000"), Decimal("60.00"))


def test_a_level_never_received_with_a_cost_is_valued_at_the_cost_price(admin, branch):
    product = ProductFactory(cost_price=Decimal("2.50"))
    receive(admin, branch, product, "4", datetime.datetime(2026, 3, 1, tzinfo=UTC))

    (then,) = reports.stock_value([branch], until=datetime.datetime(2026, 3, 2, tzinfo=UTC))
    (now,) = reports.stock_value([branch])

    assert then.value == now.value == Decimal("10.00")


def test_the_end_of_a_day_is_the_branchs_midnight_not_utcs(admin):
    branch = BranchFactory(timezone="Europe/Berlin")
    product = ProductFactory()
    # 23:30 in Berlin on the 1st is 22:30 UTC: still the 1st there.
    receive(admin, branch, product, "3", datetime.datetime(2026, 3, 1, 23, 30, tzinfo=BERLIN))
    # 00:30 in Berlin on the 2nd is 23:30 UTC on the 1st: the 2nd there.
    receive(admin, branch, product, "4", datetime.datetime(2026, 3, 2, 0, 30, tzinfo=BERLIN))

    (row,) = reports.stock_value([branch], until=reports.end_of(datetime.date(2026, 3, 1), BERLIN))

    assert row.quantity == Decimal("3.000")


def test_a_level_emptied_before_the_day_is_not_counted(admin, branch, product):
    receive(admin, branch, product, "2", datetime.datetime(2026, 3, 1, tzinfo=UTC))
    issue(admin, branch, product, "2", datetime.datetime(2026, 3, 2, tzinfo=UTC))
    receive(admin, branch, product, "5", datetime.datetime(2026, 3, 4, tzinfo=UTC))

    rows = reports.stock_value([branch], until=datetime.datetime(2026, 3, 3, tzinfo=UTC))

    assert rows == []


def test_the_category_filter_keeps_one_category(admin, branch):
    wanted, other = ProductFactory(), ProductFactory()
    receive(admin, branch, wanted, "1")
    receive(admin, branch, other, "1")

    rows = reports.stock_value([branch], category_id=wanted.category_id)

    assert [row.category_id for row in rows] == [wanted.category_id]


def test_products_without_a_category_are_a_row_of_their_own(admin, branch):
    receive(admin, branch, ProductFactory(category=None), "1")

    (row,) = reports.stock_value([branch], until=datetime.datetime.now(UTC))

    assert (row.category_id, row.category_name) == (None, None)


@pytest.mark.parametrize("size", [2, 30])
def test_stock_value_is_one_query_however_many_levels(admin, branch, size):
    for product in ProductFactory.create_batch(size):
        receive(admin, branch, product, "1", datetime.datetime(2026, 1, 1, tzinfo=UTC))

    with CaptureQueriesContext(connection) as queries:
        rows = reports.stock_value([branch], until=datetime.datetime(2026, 2, 1, tzinfo=UTC))

    assert sum(row.products for row in rows) == size
    assert len(queries) == 1


MOVES = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # which product
        st.integers(min_value=-5, max_value=9),  # how much (an issue when negative)
        st.integers(min_value=0, max_value=6 * 24 - 1),  # hours after the first midnight
        st.none() | st.decimals(min_value=0, max_value=100, places=4),  # a receipt's unit cost
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=MOVES, day=st.integers(min_value=0, max_value=6))
def test_stock_as_of_any_day_is_the_sum_of_the_deltas_before_its_end(admin, moves, day):
    branch = BranchFactory(timezone="America/New_York")
    zone = ZoneInfo(branch.timezone)
    products = ProductFactory.create_batch(3)
    start = datetime.datetime(2026, 3, 5, tzinfo=zone)  # the clocks change on the 8th
    for which, amount, hours, cost in sorted(moves, key=lambda move: move[2]):
        moment = (start.astimezone(UTC) + datetime.timedelta(hours=hours, minutes=7)).astimezone(
            UTC
        )
        product = products[which]
        if amount > 0:
            receive(admin, branch, product, str(amount), moment, cost)
        elif amount < 0:
            level = product.stock_levels.filter(branch=branch).first()
            have = level.on_hand if level else Decimal(0)
            if have >= -amount:
                issue(admin, branch, product, str(-amount), moment)

    until = reports.end_of(datetime.date(2026, 3, 5) + datetime.timedelta(days=day), zone)
    rows = reports.stock_value([branch], until=until)

    assert as_reported(rows) == held_before(until, [branch])


# Movements per period ---------------------------------------------------------------------


def test_movements_per_day_are_counted_and_summed_by_branch_and_kind(admin):
    here, there = BranchFactory(code="AAA-1"), BranchFactory(code="BBB-1")
    product = ProductFactory()
    moments = [datetime.datetime(2026, 3, d, h, tzinfo=UTC) for d, h in [(1, 9), (1, 17), (2, 8)]]
    receive(admin, here, product, "10", moments[0])
    issue(admin, here, product, "3", moments[1])
    receive(admin, there, product, "2", moments[1])
    issue(admin, here, product, "1", moments[2])
    with at(moments[2]):
        services.adjust_stock(
            actor=admin,
            branch_id=here.pk,
            product_id=product.pk,
            delta="-1",
            reason=AdjustmentReason.DAMAGED,
        )

    rows = reports.movement_totals(
        [here, there],
        start=datetime.date(2026, 3, 1),
        end=datetime.date(2026, 3, 2),
        granularity="day",
        zone=ZoneInfo("UTC"),
    )

    expected: dict = defaultdict(lambda: (defaultdict(int), defaultdict(Decimal)))
    for movement in StockMovement.objects.select_related("branch"):
        counts, sums = expected[(movement.created_at.date(), movement.branch.code)]
        counts[movement.kind] += 1
        sums[movement.kind] += movement.delta
    assert [(row.period, row.branch_code) for row in rows] == sorted(expected)
    for row in rows:
        counts, sums = expected[(row.period, row.branch_code)]
        assert row.counts == dict(counts)
        assert row.quantities == dict(sums)


def test_a_week_starts_on_monday_in_the_branchs_time_zone(admin):
    branch = BranchFactory(timezone="Europe/Berlin")
    product = ProductFactory()
    # Sunday 23:30 in Berlin (22:30 UTC), then Monday 00:30 in Berlin (Sunday 23:30 UTC).
    receive(admin, branch, product, "1", datetime.datetime(2026, 3, 8, 23, 30, tzinfo=BERLIN))
    receive(admin, branch, product, "2", datetime.datetime(2026, 3, 9, 0, 30, tzinfo=BERLIN))

    rows = reports.movement_totals(
        [branch],
        start=datetime.date(2026, 3, 1),
        end=datetime.date(2026, 3, 15),
        granularity="week",
        zone=BERLIN,
    )

    assert [(row.period, row.quantities[MovementKind.RECEIPT]) for row in rows] == [
        (datetime.date(2026, 3, 2), Decimal("1.000")),
        (datetime.date(2026, 3, 9), Decimal("2.000")),
    ]


def test_movements_per_month_begin_on_the_first(admin, branch, product):
    receive(admin, branch, product, "1", datetime.datetime(2026, 1, 31, 12, tzinfo=UTC))
    receive(admin, branch, product, "1", datetime.datetime(2026, 2, 1, 12, tzinfo=UTC))
    receive(admin, branch, product, "1", datetime.datetime(2026, 2, 28, 12, tzinfo=UTC))

    rows = reports.movement_totals(
        [branch],
        start=datetime.date(2026, 1, 1),
        end=datetime.date(2026, 2, 28),
        granularity="month",
        zone=ZoneInfo("UTC"),
    )

    assert [(row.period, row.total) for row in rows] == [
        (datetime.date(2026, 1, 1), 1),
        (datetime.date(2026, 2, 1), 2),
    ]


def test_movements_outside_the_range_are_left_out(admin, branch, product):
    receive(admin, branch, product, "1", datetime.datetime(2026, 2, 28, 23, 59, tzinfo=UTC))
    receive(admin, branch, product, "1", datetime.datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    receive(admin, branch, product, "1", datetime.datetime(2026, 3, 2, 0, 0, tzinfo=UTC))

    rows = reports.movement_totals(
        [branch],
        start=datetime.date(2026, 3, 1),
        end=datetime.date(2026, 3, 1),
        granularity="day",
        zone=ZoneInfo("UTC"),
    )

    assert [(row.period, row.total) for row in rows] == [(datetime.date(2026, 3, 1), 1)]


@pytest.mark.parametrize(
    ("start", "end", "granularity", "count"),
    [
        ("2026-03-01", "2026-03-01", "day", 1),
        ("2026-03-01", "2026-05-31", "day", 92),
        # A Sunday (its week began on Monday 23 February), then the weeks of the 2nd, 9th, 16th.
        ("2026-03-01", "2026-03-16", "week", 4),
        ("2025-11-15", "2026-02-01", "month", 4),
    ],
)
def test_a_range_touches_as_many_periods_as_it_lists(start, end, granularity, count):
    first, last = datetime.date.fromisoformat(start), datetime.date.fromisoformat(end)

    listed = reports.periods(first, last, granularity)

    assert len(listed) == count
    assert reports.period_count(first, last, granularity) == count


# Movers -----------------------------------------------------------------------------------


def test_top_movers_are_the_products_issued_most_in_the_range(admin, branch):
    a, b, c = ProductFactory(sku="A"), ProductFactory(sku="B"), ProductFactory(sku="C")
    inside = datetime.datetime(2026, 3, 10, tzinfo=UTC)
    for product in (a, b, c):
        receive(admin, branch, product, "100", datetime.datetime(2026, 3, 1, tzinfo=UTC))
    issue(admin, branch, a, "3", inside)
    issue(admin, branch, a, "2", inside)
    issue(admin, branch, b, "9", inside)
    issue(admin, branch, c, "50", datetime.datetime(2026, 3, 30, tzinfo=UTC))  # after the range

    movers = reports.top_movers(
        [branch],
        since=datetime.datetime(2026, 3, 5, tzinfo=UTC),
        until=datetime.datetime(2026, 3, 20, tzinfo=UTC),
        limit=10,
    )

    assert [(m.sku, m.issued, m.issues) for m in movers] == [
        ("B", Decimal("9.000"), 1),
        ("A", Decimal("5.000"), 2),
    ]


def test_top_movers_stop_at_the_limit(admin, branch):
    for n in range(4):
        product = ProductFactory()
        receive(admin, branch, product, "10")
        issue(admin, branch, product, str(n + 1))
    now = datetime.datetime.now(UTC)

    movers = reports.top_movers(
        [branch], since=now - datetime.timedelta(days=1), until=now + datetime.timedelta(1), limit=2
    )

    assert [m.issued for m in movers] == [Decimal("4.000"), Decimal("3.000")]


def test_slow_movers_are_held_and_not_issued_never_issued_first(admin, branch):
    never, long_ago, recent = (
        ProductFactory(sku="N"),
        ProductFactory(sku="L"),
        ProductFactory(sku="R"),
    )
    emptied = ProductFactory(sku="E")
    start = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    for product in (never, long_ago, recent, emptied):
        receive(admin, branch, product, "5", start)
    issue(admin, branch, long_ago, "1", datetime.datetime(2026, 2, 1, tzinfo=UTC))
    issue(admin, branch, recent, "1", datetime.datetime(2026, 3, 10, tzinfo=UTC))
    issue(admin, branch, emptied, "5", datetime.datetime(2026, 1, 2, tzinfo=UTC))

    slow = reports.slow_movers([branch], since=datetime.datetime(2026, 3, 1, tzinfo=UTC), limit=10)

    assert [(m.sku, m.on_hand, m.last_issue) for m in slow] == [
        ("N", Decimal("5.000"), None),
        ("L", Decimal("4.000"), datetime.datetime(2026, 2, 1, tzinfo=UTC)),
    ]


def test_slow_movers_count_issues_at_the_chosen_branches_only(admin, branch):
    elsewhere = BranchFactory()
    product = ProductFactory()
    receive(admin, branch, product, "5")
    receive(admin, elsewhere, product, "5")
    issue(admin, elsewhere, product, "1")

    slow = reports.slow_movers(
        [branch], since=datetime.datetime.now(UTC) - datetime.timedelta(days=3), limit=10
    )

    assert [(m.product_id, m.last_issue) for m in slow] == [(product.pk, None)]


# Reorder ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on_hand", "maximum", "unit", "suggested"),
    [
        ("3", "20", Unit.PIECE, "17"),
        ("0", "8", Unit.BOX, "8"),
        ("2.4", "5", Unit.PIECE, "3"),  # 2.6 rounded up to whole pieces
        ("1.250", "4", Unit.KILOGRAM, "2.750"),
    ],
)
def test_the_suggestion_brings_a_level_up_to_its_maximum(on_hand, maximum, unit, suggested):
    found = reports.suggested_quantity(Decimal(on_hand), Decimal(maximum), unit)

    assert found == Decimal(suggested)


@pytest.mark.parametrize(
    ("on_hand", "maximum", "unit", "spare"),
    [
        ("45", "20", Unit.PIECE, "25"),
        ("20", "20", Unit.PIECE, "0"),
        ("5", "20", Unit.PIECE, "0"),
        ("21", "19.5", Unit.PACK, "1"),  # 1.5 beyond 19.5, rounded down to whole packs
        ("21", "19.5", Unit.LITRE, "1.500"),
    ],
)
def test_a_branch_spares_what_it_holds_beyond_its_own_maximum(on_hand, maximum, unit, spare):
    found = reports.spare_quantity(Decimal(on_hand), Decimal(maximum), unit)

    assert found == Decimal(spare)


def test_the_reorder_list_is_the_low_levels_with_their_suggestion(admin, branch):
    low = ProductFactory(sku="LOW", low_stock_threshold=Decimal("10"))
    exactly = ProductFactory(sku="AT", low_stock_threshold=Decimal("10"))
    gone = ProductFactory(sku="GONE", low_stock_threshold=Decimal("10"))
    receive(admin, branch, low, "4")
    receive(admin, branch, exactly, "10")
    receive(admin, branch, gone, "1")
    gone.is_active = False
    gone.save()

    lines, more = reports.reorder_page([branch], offset=0, limit=50, visible=None)

    assert [
        (line.sku, line.on_hand, line.threshold, line.minimum, line.maximum, line.suggested)
        for line in lines
    ] == [("LOW", Decimal("4"), Decimal("10"), Decimal("10"), Decimal("20"), Decimal("16"))]
    assert not more


def set_rule(admin, branch, product, minimum, maximum):
    return services.set_reorder_rule(
        actor=admin,
        branch_id=branch.pk,
        product_id=product.pk,
        minimum=minimum,
        maximum=maximum,
    )


def test_a_level_with_a_rule_is_listed_below_the_rules_minimum(admin, branch):
    product = ProductFactory(low_stock_threshold=Decimal("10"))
    receive(admin, branch, product, "12")  # above the threshold, below the rule's minimum
    set_rule(admin, branch, product, "15", "40")

    (line,), _more = reports.reorder_page([branch], offset=0, limit=50, visible=None)

    assert (line.minimum, line.maximum, line.suggested) == (
        Decimal("15"),
        Decimal("40"),
        Decimal("28"),
    )
    assert line.threshold == Decimal("10")


def test_a_level_below_its_threshold_but_not_its_rules_minimum_is_not_listed(admin, branch):
    product = ProductFactory(low_stock_threshold=Decimal("10"))
    receive(admin, branch, product, "4")
    set_rule(admin, branch, product, "3", "8")

    lines, _more = reports.reorder_page([branch], offset=0, limit=50, visible=None)

    assert lines == []


def test_a_branch_with_a_rule_spares_only_beyond_its_rules_maximum(admin, branch):
    product = ProductFactory(low_stock_threshold=Decimal("10"))
    keeper, giver = BranchFactory(code="KEEPER"), BranchFactory(code="GIVER")
    receive(admin, branch, product, "2")
    receive(admin, keeper, product, "45")  # 25 beyond twice its threshold, but it keeps 50
    receive(admin, giver, product, "15")  # below twice its threshold, but it keeps only 12
    set_rule(admin, keeper, product, "30", "50")
    set_rule(admin, giver, product, "5", "12")

    (line,), _more = reports.reorder_page([branch], offset=0, limit=50, visible=None)

    assert [(s.branch_code, s.available) for s in line.sources] == [("GIVER", Decimal("3"))]


def test_a_branchs_own_threshold_wins_over_the_products(admin, branch, product):
    receive(admin, branch, product, "12")  # the product's default is 10: not low
    services.set_low_stock_threshold(
        actor=admin, branch_id=branch.pk, product_id=product.pk, threshold="15"
    )

    (line,), _more = reports.reorder_page([branch], offset=0, limit=50, visible=None)

    assert (line.threshold, line.minimum, line.suggested) == (
        Decimal("15"),
        Decimal("15"),
        Decimal("18"),
    )


def test_branches_with_more_than_twice_their_threshold_offer_the_rest(admin, branch):
    product = ProductFactory(low_stock_threshold=Decimal("10"))
    rich, plenty, just = BranchFactory(code="RICH"), BranchFactory(code="PLENTY"), BranchFactory()
    closed = BranchFactory(code="CLOSED")
    receive(admin, branch, product, "2")
    receive(admin, rich, product, "45")  # 25 spare
    receive(admin, plenty, product, "21")  # 1 spare
    receive(admin, just, product, "20")  # exactly twice: nothing to spare
    receive(admin, closed, product, "100")
    closed.is_active = False
    closed.save()

    (line,), _more = reports.reorder_page([branch], offset=0, limit=50, visible=None)

    assert [(s.branch_code, s.available) for s in line.sources] == [
        ("RICH", Decimal("25")),
        ("PLENTY", Decimal("1")),
    ]
    assert line.transfer_quantity == Decimal("18")
    assert not line.hidden_surplus


def test_a_surplus_at_a_branch_the_reader_may_not_see_is_said_without_naming_it(admin, branch):
    product = ProductFactory(low_stock_threshold=Decimal("10"))
    hidden = BranchFactory()
    receive(admin, branch, product, "2")
    receive(admin, hidden, product, "50")

    (line,), _more = reports.reorder_page(
        [branch], offset=0, limit=50, visible=frozenset({branch.pk})
    )

    assert line.sources == []
    assert line.hidden_surplus


def test_reorder_pages_follow_one_another(admin, branch):
    products = ProductFactory.create_batch(5, low_stock_threshold=Decimal("10"))
    for product in products:
        receive(admin, branch, product, "1")

    first, more = reports.reorder_page([branch], offset=0, limit=3, visible=None)
    second, more_after = reports.reorder_page([branch], offset=3, limit=3, visible=None)

    assert (more, more_after) == (True, False)
    assert {line.product_id for line in first + second} == {p.pk for p in products}


@pytest.mark.parametrize("size", [2, 25])
def test_a_reorder_page_is_two_queries_however_many_levels_and_branches(admin, branch, size):
    products = ProductFactory.create_batch(size, low_stock_threshold=Decimal("10"))
    others = BranchFactory.create_batch(3)
    for number, product in enumerate(products):
        receive(admin, branch, product, "1")
        for other in others:
            receive(admin, other, product, "30")
        if number % 2:  # rules at every other product, here and at one source
            set_rule(admin, branch, product, "5", "25")
            set_rule(admin, others[0], product, "5", "25")

    with CaptureQueriesContext(connection) as queries:
        lines, _more = reports.reorder_page([branch], offset=0, limit=50, visible=None)

    assert len(lines) == size
    assert all(len(line.sources) == 3 for line in lines)
    assert len(queries) == 2


def test_every_reorder_line_is_read_for_the_download(admin, branch):
    products = ProductFactory.create_batch(7, low_stock_threshold=Decimal("10"))
    rich = BranchFactory()
    for product in products:
        receive(admin, branch, product, "1")
        receive(admin, rich, product, "40")

    lines = list(reports.reorder_all([branch], visible=None, chunk=3))

    assert len(lines) == 7
    assert all(line.sources[0].available == Decimal("20") for line in lines)


# The reorder rule worked out again, on random levels --------------------------------------

UNITS = (Unit.PIECE, Unit.KILOGRAM, Unit.BOX)
THRESHOLDS = (Decimal("10"), Decimal("7.5"), Decimal("4"))
LEVELS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # which branch
        st.integers(min_value=0, max_value=2),  # which product
        st.integers(min_value=0, max_value=120),  # on hand, in quarters for kilograms
        st.none() | st.tuples(st.integers(0, 20), st.integers(0, 25)),  # rule: min, max - min
    ),
    max_size=9,
    unique_by=lambda level: (level[0], level[1]),
)


def expected_reorder(levels, branches, products, scope, visible):
    """Independently: what the design's terms make of ``levels`` as (branch, product,
    on hand, rule) - listed below the minimum, brought to the maximum, spare named."""

    def terms(product, rule):
        if rule is None:
            return THRESHOLDS[product], THRESHOLDS[product] * 2
        return Decimal(rule[0]), Decimal(rule[0] + rule[1])

    def whole(amount, product, up):
        step = Decimal(1) if UNITS[product] != Unit.KILOGRAM else Decimal("0.001")
        return (amount / step).to_integral_value("ROUND_CEILING" if up else "ROUND_FLOOR") * step

    found = {}
    for branch, product, on_hand, rule in levels:
        minimum, maximum = terms(product, rule)
        if branches[branch] not in scope or on_hand >= minimum:
            continue
        spares = []
        for other, same, held, other_rule in levels:
            if same != product or other == branch:
                continue
            spare = whole(held - terms(same, other_rule)[1], same, up=False)
            if spare > 0:
                spares.append((branches[other], spare))
        shown = sorted(
            ((b.code, spare) for b, spare in spares if b.pk in visible),
            key=lambda s: (-s[1], s[0]),
        )
        found[(branches[branch].code, products[product].sku)] = (
            on_hand,
            minimum,
            maximum,
            whole(maximum - on_hand, product, up=True),
            shown,
            len(shown) < len(spares),
        )
    return found


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(levels=LEVELS)
def test_the_reorder_report_is_the_rule_worked_out_again(admin, levels):
    branches = BranchFactory.create_batch(3)
    products = [
        ProductFactory(unit=unit, low_stock_threshold=threshold)
        for unit, threshold in zip(UNITS, THRESHOLDS, strict=True)
    ]
    written = []
    for branch, product, amount, rule in levels:
        on_hand = Decimal(amount) / 4 if UNITS[product] == Unit.KILOGRAM else Decimal(amount)
        if on_hand:
            receive(admin, branches[branch], products[product], str(on_hand))
        if rule is not None:
            set_rule(admin, branches[branch], products[product], rule[0], rule[0] + rule[1])
        if on_hand or rule is not None:  # the level exists
            written.append((branch, product, on_hand, rule))
    scope = branches[:2]
    visible = frozenset({branches[0].pk, branches[1].pk})

    lines, _more = reports.reorder_page(scope, offset=0, limit=50, visible=visible)

    reported = {
        (line.branch_code, line.sku): (
            line.on_hand,
            line.minimum,
            line.maximum,
            line.suggested,
            [(s.branch_code, s.available) for s in line.sources],
            line.hidden_surplus,
        )
        for line in lines
    }
    assert reported == expected_reorder(written, branches, products, scope, visible)


def test_the_reports_terms_are_the_ones_replenishment_reads(admin, branch):
    ruled, defaulted, own = ProductFactory.create_batch(3, low_stock_threshold=Decimal("10"))
    for product in (ruled, defaulted, own):
        receive(admin, branch, product, "1")
    set_rule(admin, branch, ruled, "6", "9")
    services.set_low_stock_threshold(
        actor=admin, branch_id=branch.pk, product_id=own.pk, threshold="4"
    )

    lines, _more = reports.reorder_page([branch], offset=0, limit=50, visible=None)

    terms = selectors.reorder_terms(line.level_id for line in lines)
    assert {line.level_id: (line.minimum, line.maximum, line.from_rule) for line in lines} == {
        level_id: (term.minimum, term.maximum, term.from_rule) for level_id, term in terms.items()
    }
    assert len(lines) == 3
