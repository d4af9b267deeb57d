from decimal import Decimal

import pytest

from alerts.tests.factories import EmptyStockLevelFactory
from catalog.tests.factories import SupplierProductFactory
from stock.models import ReorderRule, StockLevel
from stock.selectors import ReorderTerms, reorder_terms


@pytest.fixture
def level(branch, product):
    return StockLevel.objects.create(branch=branch, product=product)


def test_a_level_without_a_rule_uses_its_threshold_twice_and_the_preferred_supplier(level, product):
    SupplierProductFactory(product=product)
    preferred = SupplierProductFactory(product=product, is_preferred=True)
    level.low_stock_threshold = Decimal("4")
    level.save()

    terms = reorder_terms([level.pk])

    assert terms == {
        level.pk: ReorderTerms(Decimal("4"), Decimal("8"), preferred.supplier_id, False)
    }


def test_a_level_without_own_threshold_uses_the_products(level):
    terms = reorder_terms([level.pk])[level.pk]

    assert (terms.minimum, terms.maximum, terms.supplier_id) == (Decimal("10"), Decimal("20"), None)


def test_a_rule_overrides_the_defaults(level, product, actor):
    offer = SupplierProductFactory(product=product)
    SupplierProductFactory(product=product, is_preferred=True)
    ReorderRule.objects.create(
        level=level, minimum=3, maximum=12, supplier=offer.supplier, updated_by=actor
    )

    assert reorder_terms([level.pk])[level.pk] == ReorderTerms(
        Decimal("3"), Decimal("12"), offer.supplier_id, True
    )


def test_a_rule_without_supplier_falls_back_to_the_preferred_one(level, product, actor):
    preferred = SupplierProductFactory(product=product, is_preferred=True)
    ReorderRule.objects.create(level=level, minimum=3, maximum=12, updated_by=actor)

    assert reorder_terms([level.pk])[level.pk].supplier_id == preferred.supplier_id


@pytest.mark.parametrize("size", [1, 10])
def test_terms_of_many_levels_take_one_query(django_assert_num_queries, branch, actor, size):
    levels = [EmptyStockLevelFactory(branch=branch) for _ in range(size)]
    for level in levels[::2]:
        ReorderRule.objects.create(level=level, minimum=1, maximum=2, updated_by=actor)
        SupplierProductFactory(product=level.product, is_preferred=True)

    with django_assert_num_queries(1):
        terms = reorder_terms(level.pk for level in levels)

    assert len(terms) == size


def test_no_levels_ask_nothing(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert reorder_terms([]) == {}
