"""The replenishment plan against a second computation written in the plainest Python,
over random branches, levels, reorder rules, suppliers, open transfers and orders.

The reference reads the rows one by one and follows design18.md "Replenishment" word for
word; it shares no code with ``transfers.replenishment``.
"""

import math
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import AdminFactory, UserFactory
from branches.models import Branch
from branches.tests.factories import BranchFactory
from catalog.models import Product, SupplierProduct, Unit
from catalog.tests.factories import ProductFactory, SupplierFactory, SupplierProductFactory
from stock.models import ReorderRule, StockLevel
from transfers import replenishment
from transfers.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Transfer,
    TransferKind,
    TransferLine,
    TransferStatus,
)

pytestmark = pytest.mark.django_db

BRANCHES = 4
PRODUCTS = 3
SUPPLIERS = 2

amounts = st.integers(min_value=0, max_value=30)

level = st.one_of(
    st.none(),  # no level at this branch
    st.fixed_dictionaries(
        {
            "on_hand": amounts,
            "threshold": st.one_of(st.none(), st.integers(0, 15)),
            "rule": st.one_of(
                st.none(),
                st.tuples(
                    st.integers(0, 15),  # minimum
                    st.integers(0, 15),  # maximum above it
                    st.one_of(st.none(), st.integers(0, SUPPLIERS - 1)),
                ),
            ),
        }
    ),
)

world = st.fixed_dictionaries(
    {
        "active": st.lists(st.booleans(), min_size=BRANCHES, max_size=BRANCHES),
        "units": st.lists(
            st.sampled_from([Unit.PIECE, Unit.KILOGRAM]), min_size=PRODUCTS, max_size=PRODUCTS
        ),
        "defaults": st.lists(st.integers(0, 12), min_size=PRODUCTS, max_size=PRODUCTS),
        "halves": st.booleans(),  # kilograms held in halves
        "levels": st.lists(
            st.lists(level, min_size=PRODUCTS, max_size=PRODUCTS),
            min_size=BRANCHES,
            max_size=BRANCHES,
        ),
        "supplier_active": st.lists(
            st.sampled_from([True, True, True, False]), min_size=SUPPLIERS, max_size=SUPPLIERS
        ),
        # (supplier, product) -> (pack, minimum order quantity, price) or not sold
        "offers": st.lists(
            st.lists(
                st.one_of(
                    st.tuples(st.integers(1, 6), st.integers(0, 12), st.integers(0, 900)),
                    st.none(),
                ),
                min_size=PRODUCTS,
                max_size=PRODUCTS,
            ),
            min_size=SUPPLIERS,
            max_size=SUPPLIERS,
        ),
        "preferred": st.lists(
            st.sampled_from([0, 1, 0, 1, None]),
            min_size=PRODUCTS,
            max_size=PRODUCTS,
        ),
        # (from, to, product, requested, status index, shipped part, received part)
        "transfers": st.lists(
            st.tuples(
                st.integers(0, BRANCHES - 1),
                st.integers(0, BRANCHES - 1),
                st.integers(0, PRODUCTS - 1),
                st.integers(1, 12),
                st.sampled_from(list(TransferStatus)),
                st.integers(0, 12),
            ),
            max_size=6,
        ),
        # (branch, supplier, product, ordered, status, received)
        "orders": st.lists(
            st.tuples(
                st.integers(0, BRANCHES - 1),
                st.integers(0, SUPPLIERS - 1),
                st.integers(0, PRODUCTS - 1),
                st.integers(1, 12),
                st.sampled_from(list(PurchaseOrderStatus)),
                st.integers(0, 14),
            ),
            max_size=5,
        ),
    }
)


def build(data):
    """The random world, written straight to the tables (the plan only reads them)."""
    someone = UserFactory()
    branches = [BranchFactory(is_active=active) for active in data["active"]]
    products = [
        ProductFactory(unit=unit, low_stock_threshold=Decimal(default))
        for unit, default in zip(data["units"], data["defaults"], strict=True)
    ]
    suppliers = [SupplierFactory(is_active=active) for active in data["supplier_active"]]
    for s, offers in enumerate(data["offers"]):
        for p, offer in enumerate(offers):
            if offer is not None:
                pack, moq, cents = offer
                SupplierProductFactory(
                    supplier=suppliers[s],
                    product=products[p],
                    pack_size=Decimal(pack),
                    minimum_order_quantity=Decimal(moq),
                    price=Decimal(cents) / 100,
                    is_preferred=data["preferred"][p] == s,
                )
    for b, row in enumerate(data["levels"]):
        for p, spec in enumerate(row):
            if spec is None:
                continue
            on_hand = Decimal(spec["on_hand"])
            if data["halves"] and products[p].unit == Unit.KILOGRAM:
                on_hand += Decimal("0.5")
            stock_level = StockLevel.objects.create(
                branch=branches[b],
                product=products[p],
                on_hand=on_hand,
                low_stock_threshold=spec["threshold"],
            )
            if spec["rule"] is not None:
                minimum, above, s = spec["rule"]
                supplier = suppliers[s] if s is not None else None
                if (
                    supplier is not None
                    and not SupplierProduct.objects.filter(
                        supplier=supplier, product=products[p]
                    ).exists()
                ):
                    supplier = None  # a rule's supplier sells the product
                ReorderRule.objects.create(
                    level=stock_level,
                    minimum=minimum,
                    maximum=minimum + above,
                    supplier=supplier,
                    updated_by=someone,
                )
    for source, destination, p, requested, status, part in data["transfers"]:
        if source == destination:
            continue
        transfer = Transfer.objects.create(
            from_branch=branches[source],
            to_branch=branches[destination],
            kind=TransferKind.PULL,
            status=status,
            requested_by=someone,
        )
        shipped = None
        received = 0
        if status in (
            TransferStatus.IN_TRANSIT,
            TransferStatus.PARTIALLY_RECEIVED,
            TransferStatus.RECEIVED,
        ):
            shipped = max(1, requested - part % 3)
            received = min(shipped, part) if status != TransferStatus.IN_TRANSIT else 0
        TransferLine.objects.create(
            transfer=transfer,
            product=products[p],
            requested=requested,
            shipped=shipped,
            received=received,
        )
    for b, s, p, ordered, status, received in data["orders"]:
        order = PurchaseOrder.objects.create(
            branch=branches[b],
            supplier=suppliers[s],
            status=status,
            currency="EUR",
            created_by=someone,
        )
        if status in (PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.SENT):
            received = 0
        PurchaseOrderLine.objects.create(
            order=order,
            product=products[p],
            quantity_ordered=ordered,
            quantity_received=received,
        )


# The reference ----------------------------------------------------------------------------


def terms_of(stock_level):
    """minimum, maximum, supplier of a level, by design18.md."""
    rule = ReorderRule.objects.filter(level=stock_level).first()
    preferred = SupplierProduct.objects.filter(
        product=stock_level.product, is_preferred=True
    ).first()
    preferred_supplier = preferred.supplier if preferred else None
    if rule is not None:
        return rule.minimum, rule.maximum, rule.supplier or preferred_supplier
    threshold = stock_level.low_stock_threshold
    if threshold is None:
        threshold = stock_level.product.low_stock_threshold
    return threshold, 2 * threshold, preferred_supplier


def incoming_of(stock_level):
    total = Decimal(0)
    for line in PurchaseOrderLine.objects.filter(
        order__branch=stock_level.branch, product=stock_level.product
    ):
        if line.order.status in ("DRAFT", "SENT", "PARTIALLY_RECEIVED"):
            total += max(line.quantity_ordered - line.quantity_received, 0)
    for line in TransferLine.objects.filter(
        transfer__to_branch=stock_level.branch, product=stock_level.product
    ):
        if line.transfer.status not in ("CANCELLED", "RECEIVED"):
            coming = line.requested if line.shipped is None else line.shipped
            total += max(coming - line.received, 0)
    return total


def promised_by(branch, product):
    total = Decimal(0)
    for line in TransferLine.objects.filter(transfer__from_branch=branch, product=product):
        if line.transfer.status in ("REQUESTED", "APPROVED"):
            total += line.requested
    return total


def reference_plan():
    """{(branch code, sku): (need, [(source code, quantity)], (supplier code, quantity) or
    "no supplier" or None)} for every active branch."""
    countable = {Unit.PIECE, Unit.BOX, Unit.PACK}
    spare = {}
    for stock_level in StockLevel.objects.all():
        if not stock_level.branch.is_active or not stock_level.product.is_active:
            continue
        maximum = terms_of(stock_level)[1]
        amount = (
            stock_level.on_hand - maximum - promised_by(stock_level.branch, stock_level.product)
        )
        if stock_level.product.unit in countable:
            amount = Decimal(math.floor(amount))
        spare[(stock_level.branch.code, stock_level.product.sku)] = amount

    needy = []
    for stock_level in StockLevel.objects.all():
        if not stock_level.branch.is_active or not stock_level.product.is_active:
            continue
        minimum, maximum, supplier = terms_of(stock_level)
        position = stock_level.on_hand + incoming_of(stock_level)
        if position < minimum:
            needy.append((stock_level, maximum - position, supplier))
    needy.sort(key=lambda item: (item[0].branch.code, item[0].product.sku))

    expected = {}
    for stock_level, need, supplier in needy:
        product = stock_level.product
        left = need
        transfers = []
        while left > 0:
            candidates = [
                (amount, code)
                for (code, sku), amount in spare.items()
                if sku == product.sku and code != stock_level.branch.code and amount > 0
            ]
            if not candidates:
                break
            candidates.sort(key=lambda c: (-c[0], c[1]))
            amount, code = candidates[0]
            take = min(left, amount)
            if product.unit in countable:
                take = Decimal(math.floor(take))
            if take <= 0:
                break
            transfers.append((code, take))
            spare[(code, product.sku)] = amount - take
            left -= take
        buying = None
        if left > 0:
            offer = (
                SupplierProduct.objects.filter(supplier=supplier, product=product).first()
                if supplier
                else None
            )
            if offer is None or not offer.supplier.is_active:
                buying = "no supplier"
            else:
                wanted = max(left, offer.minimum_order_quantity)
                packs = math.ceil(wanted / offer.pack_size)
                buying = (offer.supplier.code, offer.pack_size * packs)
        expected[(stock_level.branch.code, product.sku)] = (need, transfers, buying)
    return expected


def as_planned(plan):
    found = {}
    for row in plan.rows:
        if row.no_supplier:
            buying = "no supplier"
        elif row.order_key:
            supplier = next(
                order.supplier_code
                for branch in plan.branches
                for order in branch.orders
                if row in order.rows
            )
            buying = (supplier, row.order_quantity)
        else:
            buying = None
        found[(row.branch_code, row.sku)] = (
            row.need,
            [(suggestion.source_code, suggestion.quantity) for suggestion in row.transfers],
            buying,
        )
    return found


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=world)
def test_the_plan_is_the_reference_computation_on_random_data(data):
    with transaction.atomic():
        build(data)
        admin = AdminFactory()

        plan = replenishment.plan(user=admin)

        expected = reference_plan()
        event(f"rows {min(len(expected), 3)}")
        event(f"transfers {any(v[1] for v in expected.values())}")
        event(f"orders {any(isinstance(v[2], tuple) for v in expected.values())}")
        assert as_planned(plan) == expected
        assert {branch.branch_code for branch in plan.branches} == set(
            Branch.objects.filter(is_active=True).values_list("code", flat=True)
        )
        # Roll the world back: the next example starts from nothing.
        transaction.set_rollback(True)


def test_a_product_made_inactive_is_not_replenished(branch):
    product = ProductFactory(is_active=False, low_stock_threshold=Decimal(5))
    StockLevel.objects.create(branch=branch, product=product, on_hand=0)

    plan = replenishment.plan(user=AdminFactory(), branch=branch.pk)

    assert plan.rows == []
    assert Product.objects.filter(is_active=False).count() == 1


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=world)
def test_applying_makes_exactly_the_suggested_transfers_and_orders(data):
    with transaction.atomic():
        build(data)
        admin = AdminFactory()
        plan = replenishment.plan(user=admin)
        expected_transfers: dict = {}
        expected_orders: dict = {}
        for row in plan.rows:
            for suggestion in row.transfers:
                key = (suggestion.source_code, row.branch_code)
                expected_transfers.setdefault(key, {})[row.sku] = suggestion.quantity
            if row.order_key:
                supplier = SupplierProduct.objects.get(
                    supplier_id=row.supplier_id, product_id=row.product_id
                ).supplier.code
                expected_orders.setdefault((row.branch_code, supplier), {})[row.sku] = (
                    row.order_quantity
                )
        if plan.empty:
            transaction.set_rollback(True)
            return

        applied = replenishment.apply_plan(actor=admin)

        made_transfers = {
            (t.from_branch.code, t.to_branch.code): {
                line.product.sku: line.requested for line in t.lines.all()
            }
            for t in applied.transfers
        }
        made_orders = {
            (o.branch.code, o.supplier.code): {
                line.product.sku: line.quantity_ordered for line in o.lines.all()
            }
            for o in applied.orders
        }
        assert made_transfers == expected_transfers
        assert made_orders == expected_orders
        assert all(t.status == TransferStatus.REQUESTED for t in applied.transfers)
        assert all(o.status == PurchaseOrderStatus.DRAFT for o in applied.orders)
        # Everything asked for now counts as coming: nothing is left to suggest but what
        # no supplier sells.
        assert replenishment.plan(user=admin).empty
        transaction.set_rollback(True)
