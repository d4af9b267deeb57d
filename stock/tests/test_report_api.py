"""The reports in the API: /api/v1/reports/<name>/."""

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AdminFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import api_client
from stock import services
from stock.models import StockMovement

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
ENDPOINTS = [
    "api-report-stock-value",
    "api-report-movements",
    "api-report-movers",
    "api-report-reorder",
]


def get(user, name, **params):
    return api_client(user).get(reverse(name), params)


def receive(actor, branch, product, quantity, moment=None):
    with mock.patch("django.utils.timezone.now", return_value=moment or timezone.now()):
        return services.receive_stock(
            actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity
        )


def issue(actor, branch, product, quantity, moment=None):
    with mock.patch("django.utils.timezone.now", return_value=moment or timezone.now()):
        return services.issue_stock(
            actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity
        )


@pytest.fixture
def admin():
    return AdminFactory()


@pytest.fixture
def elsewhere():
    return BranchFactory(code="HAM-01")


# Who may ask -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ENDPOINTS)
def test_staff_are_refused_with_the_error_body(staff, name):
    response = get(staff, name)

    assert response.status_code == 403
    assert set(response.json()) == {"code", "message", "fields"}


@pytest.mark.parametrize("name", ENDPOINTS)
def test_anonymous_callers_must_sign_in(name):
    assert get(None, name).status_code in (401, 403)


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_branch_the_manager_may_not_see_is_not_found(manager, elsewhere, name):
    response = get(manager, name, branch=str(elsewhere.pk))

    assert response.status_code == 404
    assert response.json()["code"]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_branch_that_is_not_an_id_is_a_400_naming_it(admin, name):
    response = get(admin, name, branch="BER-01")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["branch"]


# Stock value -----------------------------------------------------------------------------


def test_the_stock_value_of_a_past_day_matches_the_ledger(admin, branch):
    product = ProductFactory(cost_price=Decimal("1.25"))
    receive(admin, branch, product, "8", datetime.datetime(2026, 3, 1, 9, tzinfo=UTC))
    issue(admin, branch, product, "3", datetime.datetime(2026, 3, 2, 9, tzinfo=UTC))
    receive(admin, branch, product, "100", datetime.datetime(2026, 3, 3, 9, tzinfo=UTC))

    body = get(admin, "api-report-stock-value", as_of="2026-03-02").json()

    until = datetime.datetime(2026, 3, 3, tzinfo=UTC)
    held = sum(m.delta for m in StockMovement.objects.all() if m.created_at < until)
    (row,) = body["rows"]
    assert Decimal(row["quantity"]) == held == 5
    assert body["total_value"] == "6.25"
    assert body["as_of"] == "2026-03-02"
    assert row["branch_code"] == branch.code


def test_a_day_that_has_not_ended_is_a_400_naming_it(admin):
    response = get(admin, "api-report-stock-value", as_of="2999-01-01")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == ["as_of"]


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("api-report-stock-value", {"as_of": "soon"}, "as_of"),
        ("api-report-stock-value", {"category": "x"}, "category"),
        ("api-report-movements", {"from": "2026-03-05", "to": "2026-03-01"}, "from"),
        ("api-report-movements", {"from": "2020-01-01", "to": "2026-03-01"}, "from"),
        ("api-report-movements", {"granularity": "hour"}, "granularity"),
        ("api-report-movers", {"from": "2026-03-05", "to": "2026-03-01"}, "from"),
        ("api-report-movers", {"limit": "1000000"}, "limit"),
        ("api-report-movers", {"to": "0001-01-01"}, "to"),
        ("api-report-reorder", {"page": "0"}, "page"),
        ("api-report-reorder", {"page": "x"}, "page"),
        ("api-report-reorder", {"page": "99999999999999999999"}, "page"),
    ],
)
def test_bad_input_is_a_400_naming_its_field(admin, name, params, field):
    response = get(admin, name, **params)

    assert response.status_code == 400
    assert field in response.json()["fields"]


# Movements -------------------------------------------------------------------------------


def test_movements_are_summed_per_week_by_branch_and_kind(admin, branch, product):
    receive(admin, branch, product, "5", datetime.datetime(2026, 3, 3, 9, tzinfo=UTC))
    issue(admin, branch, product, "2", datetime.datetime(2026, 3, 5, 9, tzinfo=UTC))
    receive(admin, branch, product, "1", datetime.datetime(2026, 3, 10, 9, tzinfo=UTC))

    body = get(
        admin,
        "api-report-movements",
        granularity="week",
        **{"from": "2026-03-02", "to": "2026-03-15"},
    ).json()

    assert [(r["period_start"], r["counts"], r["quantities"]) for r in body["rows"]] == [
        ("2026-03-02", {"RECEIPT": 1, "ISSUE": 1}, {"RECEIPT": "5.000", "ISSUE": "-2.000"}),
        ("2026-03-09", {"RECEIPT": 1}, {"RECEIPT": "1.000"}),
    ]
    assert (body["start"], body["end"], body["granularity"]) == ("2026-03-02", "2026-03-15", "week")


# Movers ----------------------------------------------------------------------------------


def test_movers_list_the_top_and_the_slow(admin, branch):
    busy, idle = ProductFactory(sku="BUSY"), ProductFactory(sku="IDLE")
    receive(admin, branch, busy, "9")
    receive(admin, branch, idle, "9")
    issue(admin, branch, busy, "2")
    issue(admin, branch, busy, "1")

    body = get(admin, "api-report-movers", limit="10").json()

    assert [(m["sku"], m["issued"], m["issues"]) for m in body["top"]] == [("BUSY", "3.000", 2)]
    assert [(m["sku"], m["last_issue"]) for m in body["slow"]] == [("IDLE", None)]


# Reorder ---------------------------------------------------------------------------------


def test_reorder_lines_carry_the_suggestion_and_the_visible_sources(admin, branch, elsewhere):
    product = ProductFactory(low_stock_threshold=Decimal("10"))
    receive(admin, branch, product, "3")
    receive(admin, elsewhere, product, "26")

    body = get(admin, "api-report-reorder", branch=str(branch.pk)).json()

    (line,) = body["results"]
    assert (line["on_hand"], line["threshold"], line["suggested"]) == ("3.000", "10.000", "17.000")
    assert (line["minimum"], line["maximum"], line["from_rule"]) == ("10.000", "20.000", False)
    assert line["sources"] == [
        {"branch_id": str(elsewhere.pk), "branch_code": "HAM-01", "available": "6.000"}
    ]
    assert line["hidden_surplus"] is False
    assert (body["page"], body["next"], body["previous"]) == (1, None, None)


def test_reorder_lines_follow_the_levels_reorder_rules(admin, branch, elsewhere):
    product = ProductFactory(low_stock_threshold=Decimal("10"))
    receive(admin, branch, product, "12")  # above its threshold, below its rule's minimum
    receive(admin, elsewhere, product, "26")  # beyond twice its threshold, not its maximum
    for where, minimum, maximum in ((branch, "15", "40"), (elsewhere, "10", "30")):
        services.set_reorder_rule(
            actor=admin,
            branch_id=where.pk,
            product_id=product.pk,
            minimum=minimum,
            maximum=maximum,
        )

    (line,) = get(admin, "api-report-reorder", branch=str(branch.pk)).json()["results"]

    assert (line["threshold"], line["minimum"], line["maximum"], line["suggested"]) == (
        "10.000",
        "15.000",
        "40.000",
        "28.000",
    )
    assert line["from_rule"] is True
    assert line["sources"] == []


def test_a_manager_learns_only_that_a_hidden_branch_has_some(manager, admin, branch, elsewhere):
    product = ProductFactory(low_stock_threshold=Decimal("10"))
    receive(admin, branch, product, "3")
    receive(admin, elsewhere, product, "26")

    (line,) = get(manager, "api-report-reorder").json()["results"]

    assert line["sources"] == []
    assert line["hidden_surplus"] is True


def test_reorder_pages_link_to_the_next(admin, branch):
    products = ProductFactory.create_batch(52, low_stock_threshold=Decimal("10"))
    services.record_stock_batch(
        actor=admin,
        branch_id=branch.pk,
        kind="RECEIPT",
        lines=[services.MovementLine(p.pk, Decimal("1")) for p in products],
    )
    client = api_client(admin)

    first = client.get(reverse("api-report-reorder")).json()
    second = client.get(first["next"]).json()

    assert (len(first["results"]), len(second["results"])) == (50, 2)
    assert second["next"] is None
    assert second["previous"] is not None


# Constant queries ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ENDPOINTS)
def test_an_endpoint_costs_the_same_queries_however_much_it_covers(admin, branch, name):
    client = api_client(admin)
    counted = []
    for size in (2, 12):
        products = ProductFactory.create_batch(size, low_stock_threshold=Decimal("10"))
        for other in (branch, BranchFactory()):
            services.record_stock_batch(
                actor=admin,
                branch_id=other.pk,
                kind="RECEIPT",
                lines=[
                    services.MovementLine(p.pk, Decimal(3 if other == branch else 30))
                    for p in products
                ],
            )
            services.record_stock_batch(
                actor=admin,
                branch_id=other.pk,
                kind="ISSUE",
                lines=[services.MovementLine(p.pk, Decimal("1")) for p in products],
            )
        for product in products[::2]:  # reorder rules at some levels, defaults at the others
            services.set_reorder_rule(
                actor=admin, branch_id=branch.pk, product_id=product.pk, minimum="5", maximum="25"
            )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse(name))
        assert response.status_code == 200
        counted.append(len(queries))

    assert counted[0] == counted[1]
