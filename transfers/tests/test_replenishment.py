"""The replenishment plan and applying it: what is suggested, to whom, and what is made."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.errors import UnknownBranch
from branches.tests.factories import BranchFactory
from catalog.models import Unit
from catalog.tests.factories import ProductFactory, SupplierFactory
from inventory_project.kernel.errors import Conflict, InvalidInput, NotPermitted
from stock.models import ReorderRule, StockLevel
from transfers import replenishment
from transfers.models import (
    PurchaseOrder,
    PurchaseOrderStatus,
    Transfer,
    TransferStatus,
)
from transfers.tests.factories import drafted_order, offered, requested

pytestmark = pytest.mark.django_db


def level(branch, product, on_hand, *, threshold=None, rule=None, supplier=None):
    """A level written straight to the table (the plan only reads levels)."""
    made = StockLevel.objects.create(
        branch=branch, product=product, on_hand=Decimal(on_hand), low_stock_threshold=threshold
    )
    if rule is not None:
        ReorderRule.objects.create(
            level=made,
            minimum=Decimal(rule[0]),
            maximum=Decimal(rule[1]),
            supplier=supplier,
            updated_by=AdminFactory(),
        )
    return made


def manager_of(*branches):
    first = MembershipFactory(branch=branches[0], role=Role.MANAGER).user
    for branch in branches[1:]:
        MembershipFactory(user=first, branch=branch, role=Role.MANAGER)
    return first


@pytest.fixture
def supplier():
    return SupplierFactory(code="ACME", lead_time_days=5)


@pytest.fixture
def here():
    return BranchFactory(code="HERE")


@pytest.fixture
def there():
    return BranchFactory(code="THERE")


@pytest.fixture
def widget():
    return ProductFactory(sku="W-1", unit=Unit.PIECE, low_stock_threshold=Decimal(10))


# The plan ------------------------------------------------------------------------------------


def test_a_level_below_its_threshold_needs_twice_the_threshold_less_what_it_holds(here, widget):
    level(here, widget, 4)

    (row,) = replenishment.plan(user=AdminFactory(), branch=here.pk).rows

    assert (row.minimum, row.maximum, row.need) == (10, 20, 16)
    assert row.no_supplier


def test_a_level_at_its_minimum_needs_nothing(here, widget):
    level(here, widget, 10)

    assert replenishment.plan(user=AdminFactory(), branch=here.pk).rows == []


def test_a_reorder_rule_sets_minimum_maximum_and_supplier(here, widget, supplier):
    offered(supplier, widget, price="1.5000")
    level(here, widget, 2, rule=("3", "12"), supplier=supplier)

    (row,) = replenishment.plan(user=AdminFactory(), branch=here.pk).rows

    assert (row.minimum, row.maximum, row.need, row.from_rule) == (3, 12, 10, True)
    assert (row.supplier_id, row.order_quantity, row.line_total) == (supplier.pk, 10, 15)


def test_what_is_coming_counts_towards_the_position(here, there, widget, supplier):
    admin = AdminFactory()
    level(here, widget, 2)
    level(there, widget, 0)
    drafted_order(admin, here, supplier, (widget, "3"))
    requested(admin, there, here, (widget, "4"))

    (row,) = replenishment.plan(user=admin, branch=here.pk).rows

    assert (row.on_hand, row.incoming, row.need) == (2, 7, 11)


def test_a_branch_above_its_maximum_covers_the_need_by_transfer_first(here, there, widget):
    offered(SupplierFactory(), widget, preferred=True)
    level(here, widget, 4)
    level(there, widget, 27)  # its maximum is 20: 7 to spare

    (row,) = replenishment.plan(user=AdminFactory(), branch=here.pk).rows

    assert [(s.source_code, s.quantity) for s in row.transfers] == [("THERE", 7)]
    assert (row.to_buy, row.order_quantity) == (9, 9)


def test_promised_stock_is_not_spare(here, there, widget):
    admin = AdminFactory()
    level(here, widget, 4)
    third = BranchFactory()
    level(there, widget, 27)
    requested(admin, there, third, (widget, "5"))

    (row,) = replenishment.plan(user=admin, branch=here.pk).rows

    assert [(s.source_code, s.quantity) for s in row.transfers] == [("THERE", 2)]


def test_the_largest_spare_is_taken_first(here, there, widget):
    level(here, widget, 0)
    level(there, widget, 23)
    level(BranchFactory(code="BIG"), widget, 35)

    (row,) = replenishment.plan(user=AdminFactory(), branch=here.pk).rows

    assert [(s.source_code, s.quantity) for s in row.transfers] == [("BIG", 15), ("THERE", 3)]


def test_an_inactive_branch_spares_nothing(here, widget):
    level(here, widget, 0)
    level(BranchFactory(is_active=False), widget, 90)

    (row,) = replenishment.plan(user=AdminFactory(), branch=here.pk).rows

    assert row.transfers == []


def test_countable_products_move_in_whole_units(here, there):
    bolts = ProductFactory(unit=Unit.PIECE, low_stock_threshold=Decimal(10))
    level(here, bolts, 5)
    level(there, bolts, "21.5", threshold=Decimal(10))

    (row,) = replenishment.plan(user=AdminFactory(), branch=here.pk).rows

    assert [s.quantity for s in row.transfers] == [1]


def test_weighed_products_move_in_fractions(here, there):
    flour = ProductFactory(unit=Unit.KILOGRAM, low_stock_threshold=Decimal(10))
    level(here, flour, 5)
    level(there, flour, "21.5")

    (row,) = replenishment.plan(user=AdminFactory(), branch=here.pk).rows

    assert [s.quantity for s in row.transfers] == [Decimal("1.5")]


def test_purchases_are_whole_packs_and_at_least_the_minimum_order(here, widget, supplier):
    offered(supplier, widget, pack_size="6", minimum="24", preferred=True)
    level(here, widget, 3)  # needs 17: three packs would do, the minimum wants four

    (row,) = replenishment.plan(user=AdminFactory(), branch=here.pk).rows

    assert row.order_quantity == 24


def test_purchases_round_up_to_whole_packs(here, widget, supplier):
    offered(supplier, widget, pack_size="6", preferred=True)
    level(here, widget, 3)

    (row,) = replenishment.plan(user=AdminFactory(), branch=here.pk).rows

    assert row.order_quantity == 18


def test_orders_are_grouped_per_supplier_with_lead_time_and_total(here, supplier):
    products = ProductFactory.create_batch(2, low_stock_threshold=Decimal(5))
    for product in products:
        offered(supplier, product, price="2.0000", preferred=True)
        level(here, product, 0)

    (branch,) = replenishment.plan(user=AdminFactory(), branch=here.pk).branches

    (order,) = branch.orders
    assert (order.supplier_code, order.lead_time_days, order.total) == ("ACME", 5, 40)
    assert len(order.rows) == 2


def test_an_inactive_supplier_leaves_the_need_without_supplier(here, widget):
    offered(SupplierFactory(is_active=False), widget, preferred=True)
    level(here, widget, 0)

    (row,) = replenishment.plan(user=AdminFactory(), branch=here.pk).rows

    assert "inactive" in row.no_supplier
    assert row.order_key == ""


def test_a_manager_plans_only_for_branches_they_manage(here, there, widget):
    level(here, widget, 0)
    level(there, widget, 0)

    plan = replenishment.plan(user=manager_of(here))

    assert [branch.branch_code for branch in plan.branches] == ["HERE"]


def test_an_admin_plans_for_every_active_branch(here, there):
    BranchFactory(is_active=False)

    plan = replenishment.plan(user=AdminFactory())

    assert {b.branch_code for b in plan.branches} >= {"HERE", "THERE"}
    assert all(b.branch_code != "" for b in plan.branches)
    assert len(plan.branches) == 2


def test_staff_are_refused(here):
    staff = MembershipFactory(branch=here, role=Role.STAFF).user

    with pytest.raises(NotPermitted):
        replenishment.plan(user=staff)
    with pytest.raises(NotPermitted):
        replenishment.plan(user=staff, branch=here.pk)


def test_another_branch_is_not_found_for_a_manager(here, there):
    with pytest.raises(UnknownBranch):
        replenishment.plan(user=manager_of(here), branch=there.pk)


def test_a_malformed_branch_is_not_found(here):
    with pytest.raises(UnknownBranch):
        replenishment.plan(user=AdminFactory(), branch="not-a-uuid")


def test_a_source_the_reader_may_not_see_shows_no_stock_figures(here, there, widget):
    level(here, widget, 0)
    level(there, widget, 30)

    (row,) = replenishment.plan(user=manager_of(here)).rows
    (suggestion,) = row.transfers

    assert (suggestion.source_code, suggestion.quantity) == ("THERE", 10)
    assert suggestion.source_spare is None


def test_a_source_the_reader_sees_shows_its_spare(here, there, widget):
    level(here, widget, 0)
    level(there, widget, 30)

    (row,) = replenishment.plan(user=manager_of(here, there), branch=here.pk).rows

    assert row.transfers[0].source_spare == 10


@pytest.mark.parametrize("size", [1, 10])
@pytest.mark.parametrize("who", ["admin", "manager"])
def test_the_plan_takes_the_same_queries_however_many_levels(here, there, supplier, size, who):
    reader = AdminFactory() if who == "admin" else manager_of(here)
    for product in ProductFactory.create_batch(size, low_stock_threshold=Decimal(5)):
        offered(supplier, product, preferred=True)
        level(here, product, 0)
        level(there, product, 20)
    replenishment.plan(user=reader)  # warm up what is read once per process

    with CaptureQueriesContext(connection) as queries:
        plan = replenishment.plan(user=reader)

    assert len(plan.rows) == size
    assert len(queries) == QUERIES[who]


# The branches, the levels and their terms, what is coming (orders, transfers), the sources
# and their terms, what they promised, the suppliers' offers; a manager's rights besides.
QUERIES = {"admin": 9, "manager": 10}


# Applying ------------------------------------------------------------------------------------


def test_applying_makes_exactly_the_suggested_transfers_and_orders(here, there, widget, supplier):
    gadget = ProductFactory(sku="G-1", low_stock_threshold=Decimal(4))
    offered(supplier, widget, preferred=True)
    offered(supplier, gadget, pack_size="5", preferred=True)
    level(here, widget, 4)
    level(there, widget, 27)
    level(here, gadget, 0)
    manager = manager_of(here)
    plan = replenishment.plan(user=manager)

    applied = replenishment.apply_plan(actor=manager)

    (transfer,) = applied.transfers
    assert (transfer.from_branch, transfer.to_branch, transfer.status) == (
        there,
        here,
        TransferStatus.REQUESTED,
    )
    assert [(line.product, line.requested) for line in transfer.lines.all()] == [(widget, 7)]
    (order,) = applied.orders
    assert (order.branch, order.supplier, order.status) == (here, supplier, "DRAFT")
    lines = {line.product.sku: line.quantity_ordered for line in order.lines.all()}
    expected = {row.sku: row.order_quantity for row in plan.rows if row.order_key}
    assert lines == expected == {"W-1": 9, "G-1": 10}


def test_applying_twice_makes_nothing_the_second_time(here, widget, supplier):
    offered(supplier, widget, preferred=True)
    level(here, widget, 0)
    manager = manager_of(here)
    replenishment.apply_plan(actor=manager)

    with pytest.raises(Conflict):
        replenishment.apply_plan(actor=manager)
    assert PurchaseOrder.objects.count() == 1


def test_only_the_chosen_suggestions_are_applied(here, there, widget, supplier):
    offered(supplier, widget, preferred=True)
    level(here, widget, 4)
    level(there, widget, 27)
    manager = manager_of(here)
    (row,) = replenishment.plan(user=manager).rows

    applied = replenishment.apply_plan(actor=manager, choices=[row.order_key])

    assert (len(applied.transfers), len(applied.orders)) == (0, 1)
    assert Transfer.objects.count() == 0


def test_a_stale_choice_is_a_conflict_and_nothing_is_made(here, there, widget, supplier):
    offered(supplier, widget, preferred=True)
    level(here, widget, 4)
    spare = level(there, widget, 27)
    manager = manager_of(here)
    (row,) = replenishment.plan(user=manager).rows
    StockLevel.objects.filter(pk=spare.pk).update(on_hand=0)  # someone else took it

    with pytest.raises(Conflict):
        replenishment.apply_plan(actor=manager, choices=[row.transfers[0].key, row.order_key])
    assert (Transfer.objects.count(), PurchaseOrder.objects.count()) == (0, 0)


def test_the_quantities_applied_are_those_of_the_moment(here, widget, supplier):
    offered(supplier, widget, preferred=True)
    stock_level = level(here, widget, 4)
    manager = manager_of(here)
    (row,) = replenishment.plan(user=manager).rows
    StockLevel.objects.filter(pk=stock_level.pk).update(on_hand=6)

    (order,) = replenishment.apply_plan(actor=manager, choices=[row.order_key]).orders

    assert order.lines.get().quantity_ordered == 14


def test_when_one_draft_is_refused_nothing_is_made(here, there, widget, supplier):
    offered(supplier, widget, preferred=True)
    level(here, widget, 4)
    level(there, widget, 27)
    manager = manager_of(here)
    # The supplier stops selling between the plan and the draft: the order is refused.
    real = replenishment.compute

    def stale(inputs, branches):
        widget.supplied_by.all().delete()
        return real(inputs, branches)

    replenishment.compute = stale
    try:
        with pytest.raises(InvalidInput):
            replenishment.apply_plan(actor=manager)
    finally:
        replenishment.compute = real
    assert (Transfer.objects.count(), PurchaseOrder.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    "choices",
    [
        [],
        ["nonsense"],
        ["order:not-a-uuid"],
        ["transfer:1:2"],
        [7],
        "order:x",
        ["order:" + "9" * 500],
    ],
)
def test_malformed_choices_are_refused_on_the_field(here, widget, choices):
    level(here, widget, 0)

    with pytest.raises(InvalidInput) as refused:
        replenishment.apply_plan(actor=manager_of(here), choices=choices)

    assert refused.value.field == "choices"


def test_staff_may_not_apply(here, widget):
    level(here, widget, 0)
    staff = MembershipFactory(branch=here, role=Role.STAFF).user

    with pytest.raises(NotPermitted):
        replenishment.apply_plan(actor=staff)


def test_a_manager_may_not_apply_for_another_branch(here, there, widget):
    level(there, widget, 0)

    with pytest.raises(UnknownBranch):
        replenishment.apply_plan(actor=manager_of(here), branch_id=there.pk)


def test_an_admin_applies_for_every_branch_at_once(here, there, widget, supplier):
    offered(supplier, widget, preferred=True)
    level(here, widget, 0)
    level(there, widget, 0)

    applied = replenishment.apply_plan(actor=AdminFactory())

    assert sorted(order.branch.code for order in applied.orders) == ["HERE", "THERE"]
    assert all(o.status == PurchaseOrderStatus.DRAFT for o in applied.orders)
