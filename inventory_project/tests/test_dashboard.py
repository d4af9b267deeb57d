"""The dashboard API: figures per branch the caller may see, and their totals."""

import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory, UserFactory
from alerts.tests.factories import LowStockAlertFactory
from branches.tests.factories import BranchFactory
from catalog.models import Unit
from catalog.tests.factories import ProductFactory
from inventory_project.dashboard import dashboard, movements_by_day, value_by_category
from stock import services
from stock.models import StockLevel

pytestmark = pytest.mark.django_db

URL = reverse("api-dashboard")

ZERO = {
    "products": 0,
    "units_on_hand": "0.000",
    "low_stock": 0,
    "open_alerts": 0,
    "movements_today": 0,
}


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def receive(actor, branch, product, quantity):
    services.receive_stock(
        actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity
    )
    return StockLevel.objects.get(branch=branch, product=product)


def issue(actor, branch, product, quantity):
    services.issue_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity)


@contextmanager
def clock_at(year, month, day, hour, minute):
    """Every ``timezone.now()`` (so the movements' created_at, too) answers this UTC time."""
    instant = datetime(year, month, day, hour, minute, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=instant):
        yield


def figures_of(body, branch):
    (entry,) = [entry for entry in body["branches"] if entry["code"] == branch.code]
    return {name: entry[name] for name in ZERO}


def test_every_figure_of_a_branch(actor, branch):
    plenty = ProductFactory()  # threshold 10
    flour = ProductFactory(unit=Unit.KILOGRAM)
    sold_out = ProductFactory()
    raised = ProductFactory()
    receive(actor, branch, plenty, 20)
    flour_level = receive(actor, branch, flour, "2.5")  # below 10: low
    sold_out_level = receive(actor, branch, sold_out, 4)
    issue(actor, branch, sold_out, 4)  # nothing on hand: low, but not a product held
    receive(actor, branch, raised, 12)
    services.set_low_stock_threshold(  # its own threshold makes 12 low: an alert
        actor=actor, branch_id=branch.pk, product_id=raised.pk, threshold=15
    )
    LowStockAlertFactory(stock_level=flour_level)
    LowStockAlertFactory(stock_level=sold_out_level, acknowledged=True)
    LowStockAlertFactory(stock_level=sold_out_level, resolved=True)

    response = client_for(actor).get(URL)

    assert response.status_code == 200, response.json()
    figures = {
        "products": 3,
        "units_on_hand": "34.500",
        "low_stock": 3,
        "open_alerts": 3,
        "movements_today": 5,
    }
    assert response.json() == {
        "totals": figures,
        "branches": [
            {
                "id": str(branch.pk),
                "code": branch.code,
                "name": branch.name,
                "timezone": "Europe/Berlin",
                "is_active": True,
                **figures,
            }
        ],
    }


def test_totals_count_a_product_held_at_two_branches_once(actor):
    first, second, empty = BranchFactory.create_batch(3)
    shared, own = ProductFactory.create_batch(2)
    receive(actor, first, shared, 30)
    receive(actor, second, shared, 5)
    receive(actor, second, own, "1")

    body = client_for(actor).get(URL).json()

    assert [entry["code"] for entry in body["branches"]] == [first.code, second.code, empty.code]
    assert figures_of(body, first) == {**ZERO, "products": 1, "units_on_hand": "30.000"} | {
        "movements_today": 1
    }
    assert figures_of(body, second) == {
        "products": 2,
        "units_on_hand": "6.000",
        "low_stock": 2,
        "open_alerts": 0,
        "movements_today": 2,
    }
    assert figures_of(body, empty) == ZERO
    assert body["totals"] == {
        "products": 2,
        "units_on_hand": "36.000",
        "low_stock": 2,
        "open_alerts": 0,
        "movements_today": 3,
    }


def test_movements_today_begin_at_midnight_where_the_branch_is(actor):
    london = BranchFactory(timezone="UTC")
    berlin = BranchFactory(timezone="Europe/Berlin")  # UTC+2 in June
    new_york = BranchFactory(timezone="America/New_York")  # UTC-4 in June
    product = ProductFactory()
    # Each branch: one movement just before its local midnight, one just after.
    for branch, before, after in [
        (london, (6, 10, 23, 50), (6, 11, 0, 5)),
        (berlin, (6, 10, 21, 50), (6, 10, 22, 5)),
        (new_york, (6, 10, 3, 50), (6, 10, 4, 5)),
    ]:
        for moment in (before, after):
            with clock_at(2026, *moment):
                receive(actor, branch, product, 1)

    with clock_at(2026, 6, 11, 0, 30):  # 02:30 in Berlin, 20:30 the day before in New York
        body = client_for(actor).get(URL).json()

    assert {entry["code"]: entry["movements_today"] for entry in body["branches"]} == {
        london.code: 1,
        berlin.code: 1,
        new_york.code: 1,
    }
    assert body["totals"]["movements_today"] == 3

    with clock_at(2026, 6, 11, 4, 30):  # New York's 11 June begins at 04:00 UTC
        body = client_for(actor).get(URL).json()

    assert {entry["code"]: entry["movements_today"] for entry in body["branches"]} == {
        london.code: 1,
        berlin.code: 1,
        new_york.code: 0,
    }


def test_inactive_branches_are_listed_and_flagged(actor):
    closed = BranchFactory()
    product = ProductFactory()
    receive(actor, closed, product, 3)
    closed.is_active = False
    closed.save()

    body = client_for(actor).get(URL).json()

    (entry,) = body["branches"]
    assert entry["is_active"] is False
    assert entry["units_on_hand"] == "3.000"
    assert body["totals"]["units_on_hand"] == "3.000"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.STAFF])
def test_members_see_only_their_branches(actor, role):
    membership = MembershipFactory(role=role)
    other = MembershipFactory(user=membership.user, role=Role.STAFF).branch
    hidden = BranchFactory()
    product = ProductFactory()
    receive(actor, membership.branch, product, 4)
    LowStockAlertFactory(stock_level=receive(actor, hidden, product, 2))
    receive(actor, hidden, ProductFactory(), 50)

    body = client_for(membership.user).get(URL).json()

    assert sorted(entry["code"] for entry in body["branches"]) == sorted(
        [membership.branch.code, other.code]
    )
    assert body["totals"] == {
        "products": 1,
        "units_on_hand": "4.000",
        "low_stock": 1,
        "open_alerts": 0,
        "movements_today": 1,
    }


def test_a_member_narrows_the_dashboard_to_one_of_their_branches(actor):
    membership = MembershipFactory(role=Role.STAFF)
    MembershipFactory(user=membership.user, role=Role.STAFF)
    receive(actor, membership.branch, ProductFactory(), 4)

    response = client_for(membership.user).get(URL, {"branch": str(membership.branch.pk)})

    assert response.status_code == 200
    body = response.json()
    assert [entry["id"] for entry in body["branches"]] == [str(membership.branch.pk)]
    assert body["totals"]["units_on_hand"] == "4.000"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.STAFF])
def test_a_branch_one_may_not_see_answers_like_one_that_does_not_exist(role):
    user = MembershipFactory(role=role).user
    hidden = BranchFactory()
    missing = uuid.uuid4()
    client = client_for(user)

    refused = client.get(URL, {"branch": str(hidden.pk)})
    unknown = client.get(URL, {"branch": str(missing)})

    assert refused.status_code == unknown.status_code == 404
    assert refused.json() == {
        "code": "unknown_branch",
        "message": f"No branch with id {hidden.pk}.",
        "fields": {},
    }
    assert unknown.json() == {
        "code": "unknown_branch",
        "message": f"No branch with id {missing}.",
        "fields": {},
    }


def test_an_admin_sees_every_branch_and_may_narrow_to_any(actor):
    branches = BranchFactory.create_batch(3)
    client = client_for(actor)

    everything = client.get(URL).json()
    one = client.get(URL, {"branch": str(branches[1].pk)}).json()
    missing = client.get(URL, {"branch": str(uuid.uuid4())})

    assert [entry["code"] for entry in everything["branches"]] == [b.code for b in branches]
    assert [entry["code"] for entry in one["branches"]] == [branches[1].code]
    assert missing.status_code == 404
    assert missing.json()["code"] == "unknown_branch"


def test_a_branch_that_is_not_a_uuid_is_refused(actor):
    response = client_for(actor).get(URL, {"branch": "BR-001"})

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "branch: Must be a valid UUID.",
        "fields": {"branch": ["Must be a valid UUID."]},
    }


def test_someone_without_a_branch_sees_an_empty_dashboard(actor, django_assert_num_queries):
    receive(actor, BranchFactory(), ProductFactory(), 5)
    client = client_for(UserFactory())
    client.get(URL)  # content types are cached from here on

    with django_assert_num_queries(1):  # the branches
        response = client.get(URL)

    assert response.json() == {"totals": ZERO, "branches": []}


def test_the_dashboard_needs_credentials(db):
    response = APIClient().get(URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_an_inactive_user_sees_no_branch(actor):
    membership = MembershipFactory(role=Role.MANAGER, user__is_active=False)
    receive(actor, membership.branch, ProductFactory(), 5)

    response = client_for(membership.user).get(URL)

    assert response.json() == {"totals": ZERO, "branches": []}


def stocked_branches(actor, count, *, user=None):
    """``count`` branches in two time zones, each with three products, an alert and a
    few movements; ``user`` is made STAFF at each."""
    products = ProductFactory.create_batch(3)
    branches = []
    for n in range(count):
        branch = BranchFactory(timezone=["Europe/Berlin", "Asia/Tokyo"][n % 2])
        for product in products:
            level = receive(actor, branch, product, 5)
        issue(actor, branch, products[0], 1)
        LowStockAlertFactory(stock_level=level)
        if user is not None:
            MembershipFactory(user=user, branch=branch, role=Role.STAFF)
        branches.append(branch)
    return branches


@pytest.mark.parametrize("count", [1, 5])
@pytest.mark.parametrize("who", ["admin", "staff"])
def test_the_dashboard_takes_a_fixed_number_of_queries(
    actor, count, who, django_assert_num_queries
):
    user = AdminFactory() if who == "admin" else UserFactory()
    stocked_branches(actor, count, user=None if who == "admin" else user)
    stocked_branches(actor, 2)  # others' branches: the admin sees them too
    client_for(UserFactory()).get(URL)  # content types are cached from here on
    client = client_for(user)

    # Branches, stock held, low stock, open alerts, today's movements, distinct products
    # (counted from the figures for one branch).
    visible = count + 2 if who == "admin" else count
    with django_assert_num_queries(5 if visible == 1 else 6):
        response = client.get(URL)

    assert len(response.json()["branches"]) == visible
    assert response.json()["totals"]["products"] == (6 if who == "admin" else 3)
    assert response.json()["totals"]["open_alerts"] == visible
    assert response.json()["totals"]["movements_today"] == 4 * visible


@pytest.mark.skipif(not settings.REDIS_URL, reason="kept under event numbers shared in Redis")
@pytest.mark.parametrize("count", [1, 5])
def test_figures_are_kept_until_their_branch_announces_a_change(
    actor, count, django_assert_num_queries, django_capture_on_commit_callbacks
):
    user = UserFactory()
    branches = stocked_branches(actor, count, user=user)
    client = client_for(user)
    client.get(URL)

    with django_assert_num_queries(1):  # the branches; every figure kept
        kept = client.get(URL).json()
    with django_capture_on_commit_callbacks(execute=True):
        receive(actor, branches[0], ProductFactory(), 7)
    # The branch that changed is counted again, the others' figures are kept.
    with django_assert_num_queries(5 if count == 1 else 6):
        fresh = client.get(URL).json()

    assert fresh["totals"]["movements_today"] == kept["totals"]["movements_today"] + 1
    assert fresh["totals"]["products"] == kept["totals"]["products"] + 1
    assert fresh["branches"][1:] == kept["branches"][1:]


def test_the_selector_answers_quantities_as_decimals(actor, branch):
    receive(actor, branch, ProductFactory(unit=Unit.KILOGRAM), "0.125")

    figures = dashboard(actor, branch_id=branch.pk)

    assert str(figures["totals"]["units_on_hand"]) == "0.125"
    assert figures["branches"][0]["id"] == branch.pk


@pytest.mark.skipif(not settings.REDIS_URL, reason="kept under event numbers shared in Redis")
def test_the_charts_are_kept_until_their_branch_announces_a_change(
    actor, branch, django_assert_num_queries, django_capture_on_commit_callbacks
):
    product = ProductFactory(cost_price=Decimal("2.00"))
    receive(actor, branch, product, 5)
    days = {"days": 30, "zone": "UTC"}
    before = (value_by_category([branch]), movements_by_day([branch], **days))

    with django_assert_num_queries(0):
        assert (value_by_category([branch]), movements_by_day([branch], **days)) == before
    with django_capture_on_commit_callbacks(execute=True):
        receive(actor, branch, product, 1)
    value, movements = value_by_category([branch]), movements_by_day([branch], **days)

    assert value[0]["value"] == before[0][0]["value"] + Decimal("2.00")
    assert movements[-1]["total"] == before[1][-1]["total"] + 1


@pytest.mark.skipif(bool(settings.REDIS_URL), reason="without a Redis shared by every process")
def test_without_shared_event_numbers_the_figures_are_counted_each_time(
    actor, branch, django_assert_num_queries
):
    receive(actor, branch, ProductFactory(), 5)
    dashboard(actor, branch_id=branch.pk)

    with django_assert_num_queries(5):  # branches, then the four figures of the branch
        dashboard(actor, branch_id=branch.pk)
