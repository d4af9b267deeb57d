"""Unit costs and the moving average through the API, and a level's reorder rule."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory, SupplierFactory, SupplierProductFactory
from inventory_project.tests.helpers import api_client
from stock import services
from stock.models import ReorderRule, StockLevel, StockMovement

pytestmark = pytest.mark.django_db


def receive_body(branch, product, **extra):
    return {"branch": str(branch.pk), "product": str(product.pk), "quantity": "10", **extra}


def level_of(actor, branch, product, quantity="10", cost=None) -> StockLevel:
    services.receive_stock(
        actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity, unit_cost=cost
    )
    return StockLevel.objects.get(branch=branch, product=product)


def rule_url(level) -> str:
    return reverse("api-stock-level-reorder-rule", args=[str(level.pk)])


# Receipts with a cost ----------------------------------------------------------------------


def test_a_receipt_with_a_unit_cost_answers_the_cost_and_the_new_average(staff, branch, product):
    client = api_client(staff)
    client.post(
        reverse("api-stock-receive"), receive_body(branch, product, unit_cost="2"), format="json"
    )

    response = client.post(
        reverse("api-stock-receive"),
        receive_body(branch, product, unit_cost="3.5", quantity="30"),
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["unit_cost"] == "3.5000"
    assert response.json()["average_cost_after"] == "3.1250"


def test_a_receipt_without_a_cost_answers_null_costs(staff, branch, product):
    response = api_client(staff).post(
        reverse("api-stock-receive"), receive_body(branch, product), format="json"
    )

    assert response.status_code == 201
    assert (response.json()["unit_cost"], response.json()["average_cost_after"]) == (None, None)


@pytest.mark.parametrize(
    "cost", ["NaN", "Infinity", "1e999", "-1", "abc", "0.00001", [], {"a": 1}, True]
)
def test_a_unit_cost_that_is_no_cost_is_a_400_on_the_field(staff, branch, product, cost):
    response = api_client(staff).post(
        reverse("api-stock-receive"), receive_body(branch, product, unit_cost=cost), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["unit_cost"]
    assert not StockMovement.objects.exists()


def test_a_batch_of_receipts_takes_a_cost_per_line(staff, branch, product):
    response = api_client(staff).post(
        reverse("api-stock-batch"),
        {
            "kind": "RECEIPT",
            "branch": str(branch.pk),
            "lines": [{"product": str(product.pk), "quantity": "4", "unit_cost": "1.2345"}],
        },
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["movements"][0]["average_cost_after"] == "1.2345"


def test_a_batch_of_issues_refuses_a_cost_naming_the_line(actor, manager, branch, product):
    level_of(actor, branch, product)

    response = api_client(manager).post(
        reverse("api-stock-batch"),
        {
            "kind": "ISSUE",
            "branch": str(branch.pk),
            "lines": [{"product": str(product.pk), "quantity": "1", "unit_cost": "1"}],
        },
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["lines.0.unit_cost"]


# Levels show their average and value --------------------------------------------------------


def test_a_level_shows_its_average_cost_and_value(actor, staff, branch):
    level = level_of(actor, branch, ProductFactory(), quantity="3", cost="1.3333")

    body = api_client(staff).get(reverse("api-stock-level", args=[level.pk])).json()

    assert (body["average_cost"], body["value"]) == ("1.3333", "4.00")


def test_a_level_without_average_is_valued_at_the_cost_price(actor, staff, branch):
    level = level_of(actor, branch, ProductFactory(cost_price=Decimal("2.50")), quantity="3")

    body = api_client(staff).get(reverse("api-stock-level", args=[level.pk])).json()

    assert (body["average_cost"], body["value"]) == (None, "7.50")


def test_the_list_rows_match_the_single_level(actor, staff, branch):
    level = level_of(actor, branch, ProductFactory(), quantity="7", cost="0.3")
    client = api_client(staff)

    (row,) = client.get(reverse("api-stock-levels")).json()["results"]
    single = client.get(reverse("api-stock-level", args=[level.pk])).json()

    assert row == single


@pytest.mark.parametrize("size", [1, 10])
def test_the_list_with_costs_takes_the_same_queries_however_long(actor, staff, branch, size):
    for product in ProductFactory.create_batch(size):
        level_of(actor, branch, product, cost="1.5")
    client = api_client(staff)
    client.get(reverse("api-stock-levels"))

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("api-stock-levels"))

    assert len(response.json()["results"]) == size
    assert len(queries) <= 6


# Reorder rules ----------------------------------------------------------------------------


def test_without_a_rule_the_defaults_are_answered(actor, staff, branch, product):
    level = level_of(actor, branch, product)

    response = api_client(staff).get(rule_url(level))

    assert response.status_code == 200
    assert response.json() == {
        "level": str(level.pk),
        "minimum": "10.000",
        "maximum": "20.000",
        "supplier": None,
        "from_rule": False,
    }


def test_a_manager_sets_a_rule_and_reads_it_back(actor, manager, branch, product):
    level = level_of(actor, branch, product)
    offer = SupplierProductFactory(product=product)
    client = api_client(manager)

    response = client.put(
        rule_url(level),
        {"minimum": "5", "maximum": "25", "supplier": str(offer.supplier_id)},
        format="json",
    )

    assert response.status_code == 200
    expected = {
        "level": str(level.pk),
        "minimum": "5.000",
        "maximum": "25.000",
        "supplier": str(offer.supplier_id),
        "from_rule": True,
    }
    assert response.json() == expected
    assert client.get(rule_url(level)).json() == expected


def test_a_rule_is_set_once_per_idempotency_key(actor, manager, branch, product):
    level = level_of(actor, branch, product)
    client = api_client(manager)
    body = {"minimum": "5", "maximum": "25"}

    first = client.put(rule_url(level), body, format="json", headers={"Idempotency-Key": "k1"})
    again = client.put(rule_url(level), body, format="json", headers={"Idempotency-Key": "k1"})

    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert ReorderRule.objects.count() == 1


def test_a_maximum_below_the_minimum_is_a_400_on_maximum(actor, manager, branch, product):
    level = level_of(actor, branch, product)

    response = api_client(manager).put(
        rule_url(level), {"minimum": "5", "maximum": "4"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["maximum"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"minimum": "NaN", "maximum": "4"}, "minimum"),
        ({"minimum": "1", "maximum": "1e999"}, "maximum"),
        ({"minimum": "-1", "maximum": "4"}, "minimum"),
        ({"minimum": "one", "maximum": "4"}, "minimum"),
        ({"minimum": "1"}, "maximum"),
        ({"minimum": "1", "maximum": "2", "supplier": "nope"}, "supplier"),
        ({"minimum": "1", "maximum": "2", "on_hand": "9"}, "on_hand"),
    ],
)
def test_bad_rules_are_400_naming_the_field(actor, manager, branch, product, body, field):
    level = level_of(actor, branch, product)

    response = api_client(manager).put(rule_url(level), body, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not ReorderRule.objects.exists()


def test_a_supplier_not_selling_the_product_is_a_400(actor, manager, branch, product):
    level = level_of(actor, branch, product)

    response = api_client(manager).put(
        rule_url(level),
        {"minimum": "1", "maximum": "2", "supplier": str(SupplierFactory().pk)},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["supplier"]


def test_staff_read_the_terms_but_may_not_change_them(actor, staff, branch, product):
    level = level_of(actor, branch, product)
    client = api_client(staff)

    assert client.get(rule_url(level)).status_code == 200
    assert client.put(rule_url(level), {"minimum": 1, "maximum": 2}, format="json").status_code == (
        403
    )
    assert client.delete(rule_url(level)).status_code == 403


def test_another_branchs_level_is_not_found(actor, branch, product):
    level = level_of(actor, branch, product)
    stranger = MembershipFactory(branch=BranchFactory(), role=Role.MANAGER).user
    client = api_client(stranger)

    assert client.get(rule_url(level)).status_code == 404
    assert client.put(rule_url(level), {"minimum": 1, "maximum": 2}, format="json").status_code == (
        404
    )
    assert client.delete(rule_url(level)).status_code == 404


def test_a_malformed_level_id_is_not_found(manager):
    url = reverse("api-stock-level-reorder-rule", args=["not-an-id"])

    assert api_client(manager).get(url).status_code == 404


def test_deleting_the_rule_brings_back_the_defaults(actor, manager, branch, product):
    level = level_of(actor, branch, product)
    client = api_client(manager)
    client.put(rule_url(level), {"minimum": "5", "maximum": "25"}, format="json")

    response = client.delete(rule_url(level), headers={"Idempotency-Key": "gone"})

    assert response.status_code == 204
    assert client.get(rule_url(level)).json()["from_rule"] is False
