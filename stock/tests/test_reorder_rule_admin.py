"""Reorder rules in the back office: added, changed and deleted only through
stock.services.set_reorder_rule and clear_reorder_rule, refusals shown beside the field."""

from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import AdminFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory, SupplierProductFactory
from stock import services
from stock.admin import ReorderRuleAdmin
from stock.models import ReorderRule, StockLevel

pytestmark = pytest.mark.django_db

ADD = "admin:stock_reorderrule_add"
CHANGELIST = "admin:stock_reorderrule_changelist"


def change_url(rule):
    return reverse("admin:stock_reorderrule_change", args=[rule.pk])


def delete_url(rule):
    return reverse("admin:stock_reorderrule_delete", args=[rule.pk])


@pytest.fixture
def superuser():
    return AdminFactory()


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def offer(product):
    """A supplier that sells the product."""
    return SupplierProductFactory(product=product)


@pytest.fixture
def rule(superuser, branch, product):
    return services.set_reorder_rule(
        actor=superuser, branch_id=branch.pk, product_id=product.pk, minimum="5", maximum="20"
    )


def add(admin_client, branch, product, **terms):
    data = {"branch": branch.code, "product": product.sku, "minimum": "5", "maximum": "20"}
    return admin_client.post(reverse(ADD), {"supplier": "", **data, **terms})


def form_errors(response) -> dict:
    return response.context["adminform"].form.errors


def spy(name: str, function):
    """Count the calls the admin makes to one of its services, still running it."""
    return mock.patch.dict(ReorderRuleAdmin.services, {name: mock.Mock(wraps=function)})


# Adding -----------------------------------------------------------------------------------


def test_adding_a_rule_goes_through_the_service_and_creates_the_level(
    admin_client, superuser, branch, product, offer
):
    with spy("create", services.set_reorder_rule):
        response = add(admin_client, branch, product, supplier=str(offer.supplier.pk))
        called = ReorderRuleAdmin.services["create"]

    assert response.status_code == 302
    called.assert_called_once()
    assert called.call_args.kwargs["actor"] == superuser
    rule = ReorderRule.objects.get()
    assert rule.level == StockLevel.objects.get(branch=branch, product=product)
    assert (rule.minimum, rule.maximum, rule.supplier) == (Decimal(5), Decimal(20), offer.supplier)
    assert rule.updated_by == superuser


def test_a_maximum_below_the_minimum_is_refused_beside_the_maximum(admin_client, branch, product):
    response = add(admin_client, branch, product, minimum="10", maximum="9")

    assert response.status_code == 200
    assert "cannot be below the minimum" in form_errors(response)["maximum"][0]
    assert 'value="10"' in response.text  # what was typed stays
    assert not ReorderRule.objects.exists()


def test_an_unknown_sku_is_an_error_beside_the_product_and_calls_no_service(admin_client, branch):
    with spy("create", services.set_reorder_rule):
        response = admin_client.post(
            reverse(ADD),
            {"branch": branch.code, "product": "NO-SUCH", "minimum": "1", "maximum": "2"},
        )
        called = ReorderRuleAdmin.services["create"]

    assert response.status_code == 200
    assert form_errors(response)["product"] == ["No product with this SKU."]
    called.assert_not_called()


def test_an_unknown_branch_code_is_an_error_beside_the_branch(admin_client, product):
    response = admin_client.post(
        reverse(ADD), {"branch": "NOWHERE", "product": product.sku, "minimum": "1", "maximum": "2"}
    )

    assert form_errors(response)["branch"] == ["No branch with this code."]


def test_a_supplier_that_does_not_sell_the_product_is_refused_beside_the_supplier(
    admin_client, branch, product
):
    elsewhere = SupplierProductFactory()  # sells another product

    response = add(admin_client, branch, product, supplier=str(elsewhere.supplier.pk))

    assert "does not sell" in form_errors(response)["supplier"][0]
    assert not ReorderRule.objects.exists()


def test_a_fractional_minimum_for_pieces_is_refused_beside_the_minimum(
    admin_client, branch, product
):
    response = add(admin_client, branch, product, minimum="2.5")

    assert form_errors(response)["minimum"]
    assert not ReorderRule.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("minimum", "-1"),
        ("minimum", "NaN"),
        ("maximum", "1e999"),
        ("maximum", "99999999999999999999999999"),
        ("minimum", "ten"),
        ("maximum", ""),
    ],
)
def test_bad_quantities_are_form_errors_not_crashes(admin_client, branch, product, field, value):
    response = add(admin_client, branch, product, **{field: value})

    assert response.status_code == 200
    assert form_errors(response)
    assert not ReorderRule.objects.exists()


# Changing and deleting --------------------------------------------------------------------


def test_changing_a_rule_goes_through_the_service(admin_client, superuser, rule):
    with spy("update", services.set_reorder_rule):
        response = admin_client.post(
            change_url(rule), {"minimum": "8", "maximum": "30", "supplier": ""}
        )
        called = ReorderRuleAdmin.services["update"]

    assert response.status_code == 302
    assert called.call_args.kwargs["actor"] == superuser
    rule.refresh_from_db()
    assert (rule.minimum, rule.maximum) == (Decimal(8), Decimal(30))


def test_a_change_to_a_maximum_below_the_minimum_keeps_the_rule(admin_client, rule):
    response = admin_client.post(change_url(rule), {"minimum": "8", "maximum": "7", "supplier": ""})

    assert response.status_code == 200
    assert form_errors(response)["maximum"]
    rule.refresh_from_db()
    assert (rule.minimum, rule.maximum) == (Decimal(5), Decimal(20))


def test_the_change_form_shows_the_level_but_does_not_edit_it(admin_client, rule, branch):
    response = admin_client.get(change_url(rule))

    assert response.status_code == 200
    assert branch.code in response.text
    assert set(form_errors(response) or {}) == set()
    assert set(response.context["adminform"].form.fields) == {"minimum", "maximum", "supplier"}


def test_deleting_a_rule_goes_through_the_service_and_keeps_the_level(
    admin_client, superuser, rule
):
    with spy("delete", services.clear_reorder_rule):
        response = admin_client.post(delete_url(rule), {"post": "yes"})
        called = ReorderRuleAdmin.services["delete"]

    assert response.status_code == 302
    assert called.call_args.kwargs == {
        "actor": superuser,
        "branch_id": rule.level.branch_id,
        "product_id": rule.level.product_id,
    }
    assert not ReorderRule.objects.exists()
    assert StockLevel.objects.filter(pk=rule.level_id).exists()


def test_rules_deleted_in_bulk_go_through_the_service_one_by_one(admin_client, superuser, rule):
    other = services.set_reorder_rule(
        actor=superuser,
        branch_id=BranchFactory().pk,
        product_id=ProductFactory().pk,
        minimum="1",
        maximum="2",
    )

    with spy("delete", services.clear_reorder_rule):
        admin_client.post(
            reverse(CHANGELIST),
            {"action": "delete_selected", "_selected_action": [rule.pk, other.pk], "post": "yes"},
        )
        called = ReorderRuleAdmin.services["delete"]

    assert called.call_count == 2
    assert not ReorderRule.objects.exists()


# The list ---------------------------------------------------------------------------------


def test_the_list_shows_branch_product_minimum_maximum_and_supplier(
    admin_client, superuser, branch, product, offer
):
    services.set_reorder_rule(
        actor=superuser,
        branch_id=branch.pk,
        product_id=product.pk,
        minimum="5",
        maximum="20",
        supplier_id=offer.supplier.pk,
    )

    response = admin_client.get(reverse(CHANGELIST))

    text = response.text
    for shown in (branch.code, product.sku, offer.supplier.code):
        assert shown in text
    assert '<td class="field-minimum_shown">5</td>' in text
    assert '<td class="field-maximum_shown">20</td>' in text


@pytest.mark.parametrize("by", ["sku", "code"])
def test_the_list_is_searched_by_sku_and_branch_code(admin_client, superuser, rule, by):
    other = services.set_reorder_rule(
        actor=superuser,
        branch_id=BranchFactory().pk,
        product_id=ProductFactory().pk,
        minimum="1",
        maximum="2",
    )
    term = rule.level.product.sku if by == "sku" else rule.level.branch.code

    response = admin_client.get(reverse(CHANGELIST), {"q": term})

    assert list(response.context["cl"].result_list) == [rule]
    assert other not in response.context["cl"].result_list


def test_the_list_costs_the_same_queries_however_many_rules(admin_client, superuser):
    counted = []
    for size in (1, 10):
        for _ in range(size):
            sold = SupplierProductFactory()
            services.set_reorder_rule(
                actor=superuser,
                branch_id=BranchFactory().pk,
                product_id=sold.product_id,
                minimum="1",
                maximum="2",
                supplier_id=sold.supplier_id,
            )
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(reverse(CHANGELIST)).status_code == 200
        counted.append(len(queries))

    assert counted[0] == counted[1]


def test_the_add_form_asks_for_a_branch_code_and_a_sku(admin_client):
    response = admin_client.get(reverse(ADD))

    assert response.status_code == 200
    assert list(response.context["adminform"].form.fields) == [
        "branch",
        "product",
        "minimum",
        "maximum",
        "supplier",
    ]
