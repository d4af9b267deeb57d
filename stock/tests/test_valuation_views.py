"""The item page's average unit cost and value, the receive form's unit cost, and the
reorder rule form: per role, with bad input and double submits."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory, SupplierFactory, SupplierProductFactory
from inventory_project.tests.helpers import page_client
from stock import services
from stock.models import ReorderRule, StockLevel, StockMovement

pytestmark = pytest.mark.django_db


def level_of(actor, branch, product, quantity="10", cost=None) -> StockLevel:
    services.receive_stock(
        actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity, unit_cost=cost
    )
    return StockLevel.objects.get(branch=branch, product=product)


def page(level) -> str:
    return reverse("stock-level", args=[level.pk])


def rule_url(level) -> str:
    return reverse("stock-level-reorder-rule", args=[level.pk])


def key_of(response, form_id: str) -> str:
    match = re.search(rf'name="once" value="([0-9a-f]+)" id="{form_id}"', response.text)
    assert match, f"no {form_id} in the answer"
    return match.group(1)


def post_rule(client, level, data):
    key = key_of(client.get(page(level)), "rule-once")
    return client.post(rule_url(level), {"once": key, **data})


def post_receipt(client, level, data):
    url = reverse("stock-level-move", args=[level.pk, "receive"])
    key = key_of(client.get(url), "receive-once")
    return client.post(url, {"once": key, **data})


# Figures ------------------------------------------------------------------------------------


def test_the_page_shows_the_average_unit_cost_and_the_value(actor, staff, branch, product):
    level = level_of(actor, branch, product, quantity="3", cost="1.3333")

    response = page_client(staff).get(page(level))

    assertContains(response, '<dd id="level-average-cost">1.3333</dd>', html=True)
    assertContains(response, "4.00 <span")


def test_without_an_average_the_page_says_the_cost_price_stands_in(actor, staff, branch):
    level = level_of(actor, branch, ProductFactory(cost_price=Decimal("2.50")), quantity="2")

    response = page_client(staff).get(page(level))

    assertContains(response, "none yet")
    assertContains(response, "the product's cost price (2.5000) stands in")
    assertContains(response, "5.00 <span")


# Receiving at a cost -----------------------------------------------------------------------


def test_staff_receive_at_a_unit_cost(actor, staff, branch, product):
    level = level_of(actor, branch, product, cost="2")

    response = post_receipt(page_client(staff), level, {"quantity": "10", "unit_cost": "4"})

    assertRedirects(response, page(level))
    level.refresh_from_db()
    assert level.average_cost == Decimal("3.0000")
    assert StockMovement.objects.get(version=2).unit_cost == Decimal("4")


def test_a_receipt_without_a_unit_cost_keeps_the_average(actor, staff, branch, product):
    level = level_of(actor, branch, product, cost="2")

    post_receipt(page_client(staff), level, {"quantity": "10", "unit_cost": ""})

    level.refresh_from_db()
    assert (level.on_hand, level.average_cost) == (20, Decimal("2.0000"))


@pytest.mark.parametrize("cost", ["abc", "-1", "NaN", "1e999", "0.00001", "Infinity"])
def test_a_bad_unit_cost_is_refused_keeping_what_was_typed(actor, staff, branch, product, cost):
    level = level_of(actor, branch, product)

    response = post_receipt(page_client(staff), level, {"quantity": "10", "unit_cost": cost})

    assert response.status_code == 400
    assertContains(response, f'value="{cost}"', status_code=400)
    assertContains(response, 'id="receive-unit_cost_error"', status_code=400)
    assert StockMovement.objects.count() == 1


# The reorder rule -------------------------------------------------------------------------


def test_staff_see_the_terms_but_no_rule_form(actor, staff, branch, product):
    level = level_of(actor, branch, product)

    response = page_client(staff).get(page(level))

    assertContains(response, "Below 10 pieces")
    assertContains(response, "no supplier sells it yet")
    assertNotContains(response, 'id="reorder-rule-form"')


def test_a_manager_is_offered_the_suppliers_selling_the_product(actor, manager, branch, product):
    level = level_of(actor, branch, product)
    selling = SupplierProductFactory(product=product, supplier=SupplierFactory(name="Acme"))
    SupplierProductFactory(product=product, supplier=SupplierFactory(is_active=False))
    SupplierFactory(name="Elsewhere Ltd")

    response = page_client(manager).get(page(level))

    options = re.findall(r'<option value="([^"]*)"', response.text.split('id="rule-supplier"')[1])
    assert options[:2] == ["", str(selling.supplier_id)]
    assert len(options) == 2 or options[2] not in {str(selling.supplier_id)}


def test_a_manager_sets_a_rule(actor, manager, branch, product):
    level = level_of(actor, branch, product)
    offer = SupplierProductFactory(product=product)
    client = page_client(manager)

    response = post_rule(
        client, level, {"minimum": "4", "maximum": "12", "supplier": str(offer.supplier_id)}
    )

    assertRedirects(response, page(level) + "#reorder-heading")
    rule = ReorderRule.objects.get()
    assert (rule.minimum, rule.maximum, rule.supplier) == (4, 12, offer.supplier)
    shown = client.get(page(level))
    assertContains(shown, "This branch's own rule.")
    assertContains(shown, 'value="12"')


def test_the_rule_posted_twice_is_saved_once(actor, manager, branch, product):
    level = level_of(actor, branch, product)
    client = page_client(manager)
    data = {"once": key_of(client.get(page(level)), "rule-once"), "minimum": "4", "maximum": "8"}

    first = client.post(rule_url(level), data)
    second = client.post(rule_url(level), data)

    assert first.status_code == second.status_code == 302
    assert ReorderRule.objects.count() == 1


def test_a_maximum_below_the_minimum_is_refused_keeping_what_was_typed(
    actor, manager, branch, product
):
    level = level_of(actor, branch, product)

    response = post_rule(page_client(manager), level, {"minimum": "9", "maximum": "3"})

    assert response.status_code == 400
    assertContains(response, "cannot be below the minimum", status_code=400)
    assertContains(response, 'value="9"', status_code=400)
    assertContains(response, 'value="3"', status_code=400)
    assert not ReorderRule.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"minimum": "x", "maximum": "3"},
        {"minimum": "1", "maximum": "1e999"},
        {"minimum": "-1", "maximum": "3"},
        {"minimum": "1", "maximum": "NaN"},
        {"minimum": "1", "maximum": ""},
        {"minimum": "1", "maximum": "3", "supplier": "not-a-supplier"},
    ],
)
def test_bad_rules_are_refused_as_field_errors(actor, manager, branch, product, data):
    level = level_of(actor, branch, product)

    response = post_rule(page_client(manager), level, data)

    assert response.status_code == 400
    assertContains(response, 'aria-invalid="true"', status_code=400)
    assert not ReorderRule.objects.exists()


def test_a_manager_goes_back_to_the_defaults(actor, manager, branch, product):
    level = level_of(actor, branch, product)
    client = page_client(manager)
    post_rule(client, level, {"minimum": "4", "maximum": "8"})

    response = post_rule(client, level, {"clear": "1", "minimum": "", "maximum": ""})

    assertRedirects(response, page(level) + "#reorder-heading")
    assert not ReorderRule.objects.exists()


def test_staff_posting_a_rule_are_refused_in_words(actor, staff, branch, product):
    level = level_of(actor, branch, product)

    response = page_client(staff).post(
        rule_url(level), {"once": "a" * 32, "minimum": "1", "maximum": "2"}
    )

    assert response.status_code == 403
    assertContains(response, "You may not order stock from suppliers", status_code=403)
    assert not ReorderRule.objects.exists()


def test_another_branchs_level_is_not_found(actor, branch, product):
    level = level_of(actor, branch, product)
    stranger = MembershipFactory(branch=BranchFactory(), role=Role.MANAGER).user

    response = page_client(stranger).post(
        rule_url(level), {"once": "a" * 32, "minimum": "1", "maximum": "2"}
    )

    assert response.status_code == 404


def test_the_ledger_shows_what_each_unit_cost(actor, staff, branch, product):
    level = level_of(actor, branch, product, quantity="4", cost="2.125")
    services.issue_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity="1")

    response = page_client(staff).get(page(level))

    cells = re.findall(r'<td class="number" data-label="Unit cost">([^<]*)</td>', response.text)
    assert cells == ["2.1250", "2.1250"]
