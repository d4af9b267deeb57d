"""Reorder rules: set and cleared through stock.services by those who order stock."""

from decimal import Decimal

import pytest

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.models import Unit
from catalog.tests.factories import ProductFactory, SupplierFactory, SupplierProductFactory
from inventory_project.kernel.errors import InvalidInput, NotFound, NotPermitted
from stock import services
from stock.models import ReorderRule, StockLevel


def set_rule(actor, branch, product, minimum="5", maximum="20", supplier=None):
    return services.set_reorder_rule(
        actor=actor,
        branch_id=branch.pk,
        product_id=product.pk,
        minimum=minimum,
        maximum=maximum,
        supplier_id=None if supplier is None else supplier.pk,
    )


def test_a_manager_sets_a_rule_creating_the_level(manager, branch, product):
    offer = SupplierProductFactory(product=product)

    rule = set_rule(manager, branch, product, supplier=offer.supplier)

    level = StockLevel.objects.get(branch=branch, product=product)
    assert (rule.level, rule.minimum, rule.maximum) == (level, Decimal("5"), Decimal("20"))
    assert (rule.supplier, rule.updated_by) == (offer.supplier, manager)


def test_setting_again_replaces_the_rule(manager, branch, product):
    set_rule(manager, branch, product)
    set_rule(manager, branch, product, minimum="1", maximum="2")

    rule = ReorderRule.objects.get()
    assert (rule.minimum, rule.maximum, rule.supplier) == (Decimal("1"), Decimal("2"), None)


def test_a_maximum_below_the_minimum_is_refused(manager, branch, product):
    with pytest.raises(InvalidInput) as refused:
        set_rule(manager, branch, product, minimum="10", maximum="9")

    assert refused.value.field == "maximum"
    assert not ReorderRule.objects.exists()


def test_a_maximum_equal_to_the_minimum_is_accepted(manager, branch, product):
    assert set_rule(manager, branch, product, minimum="4", maximum="4").maximum == 4


@pytest.mark.parametrize(
    ("field", "minimum", "maximum"),
    [
        ("minimum", "-1", "5"),
        ("minimum", "NaN", "5"),
        ("minimum", "abc", "5"),
        ("maximum", "1", "1e999"),
        ("maximum", "1", ""),
        ("minimum", "1.5", "5"),
    ],
)
def test_quantities_that_are_no_quantities_are_refused(manager, branch, field, minimum, maximum):
    product = ProductFactory(unit=Unit.PIECE)
    with pytest.raises(InvalidInput) as refused:
        set_rule(manager, branch, product, minimum=minimum, maximum=maximum)

    assert refused.value.field == field


def test_a_supplier_that_does_not_sell_the_product_is_refused(manager, branch, product):
    with pytest.raises(InvalidInput) as refused:
        set_rule(manager, branch, product, supplier=SupplierFactory())

    assert refused.value.field == "supplier"


def test_an_inactive_supplier_is_refused(manager, branch, product):
    offer = SupplierProductFactory(product=product, supplier=SupplierFactory(is_active=False))

    with pytest.raises(InvalidInput) as refused:
        set_rule(manager, branch, product, supplier=offer.supplier)

    assert refused.value.field == "supplier"


@pytest.mark.parametrize("supplier_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_supplier_is_refused(manager, branch, product, supplier_id):
    with pytest.raises(InvalidInput) as refused:
        services.set_reorder_rule(
            actor=manager,
            branch_id=branch.pk,
            product_id=product.pk,
            minimum="1",
            maximum="2",
            supplier_id=supplier_id,
        )

    assert refused.value.field == "supplier"


def test_staff_may_not_set_rules(staff, branch, product):
    with pytest.raises(NotPermitted):
        set_rule(staff, branch, product)


def test_another_branchs_manager_finds_no_branch(branch, product):
    stranger = MembershipFactory(branch=BranchFactory(), role=Role.MANAGER).user

    with pytest.raises(NotFound):
        set_rule(stranger, branch, product)
    with pytest.raises(NotFound):
        services.clear_reorder_rule(actor=stranger, branch_id=branch.pk, product_id=product.pk)


@pytest.mark.parametrize("branch_id", ["nope", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_branch_is_not_found(actor, product, branch_id):
    with pytest.raises(NotFound):
        services.set_reorder_rule(
            actor=actor, branch_id=branch_id, product_id=product.pk, minimum="1", maximum="2"
        )
    with pytest.raises(NotFound):
        services.clear_reorder_rule(actor=actor, branch_id=branch_id, product_id=product.pk)


def test_clearing_removes_the_rule_and_keeps_the_level(manager, branch, product):
    set_rule(manager, branch, product)

    assert services.clear_reorder_rule(actor=manager, branch_id=branch.pk, product_id=product.pk)

    assert not ReorderRule.objects.exists()
    assert StockLevel.objects.filter(branch=branch, product=product).exists()


def test_clearing_without_a_rule_changes_nothing(manager, branch, product):
    cleared = services.clear_reorder_rule(actor=manager, branch_id=branch.pk, product_id=product.pk)

    assert cleared is False


def test_staff_may_not_clear_rules(staff, branch, product):
    with pytest.raises(NotPermitted):
        services.clear_reorder_rule(actor=staff, branch_id=branch.pk, product_id=product.pk)
