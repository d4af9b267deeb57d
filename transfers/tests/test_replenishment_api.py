"""The replenishment API: the plan, and applying it once per Idempotency-Key."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory, SupplierFactory
from inventory_project.tests.helpers import api_client
from stock.models import StockLevel
from transfers.models import PurchaseOrder, Transfer
from transfers.tests.factories import offered

pytestmark = pytest.mark.django_db

PLAN = reverse("api-replenishment")
APPLY = reverse("api-replenishment-apply")


@pytest.fixture
def here():
    return BranchFactory(code="HERE")


@pytest.fixture
def there():
    return BranchFactory(code="THERE")


@pytest.fixture
def manager(here):
    return MembershipFactory(branch=here, role=Role.MANAGER).user


@pytest.fixture
def short(here, there):
    """HERE needs 16 of a widget; THERE can spare 7; ACME sells the rest in packs of 5."""
    widget = ProductFactory(sku="W-1", low_stock_threshold=Decimal(10))
    offered(SupplierFactory(code="ACME"), widget, pack_size="5", price="1.2500", preferred=True)
    StockLevel.objects.create(branch=here, product=widget, on_hand=4)
    StockLevel.objects.create(branch=there, product=widget, on_hand=27)
    return widget


def test_the_plan_names_the_need_the_transfer_and_the_purchase(manager, short, here):
    body = api_client(manager).get(PLAN).json()

    (branch,) = body["branches"]
    (row,) = branch["rows"]
    assert (branch["branch_code"], row["sku"], row["need"]) == ("HERE", "W-1", "16.000")
    (transfer,) = row["transfers"]
    assert (transfer["source_code"], transfer["quantity"], transfer["source_spare"]) == (
        "THERE",
        "7.000",
        None,
    )
    assert (row["to_buy"], row["order_quantity"], row["line_total"]) == (
        "9.000",
        "10.000",
        "12.5000",
    )
    (order,) = branch["orders"]
    assert (order["supplier_code"], order["total"], order["products"]) == (
        "ACME",
        "12.5000",
        [str(short.pk)],
    )
    assert sorted(body["keys"]) == sorted([transfer["key"], row["order_key"]])


def test_applying_everything_answers_what_was_made(manager, short, here, there):
    response = api_client(manager).post(APPLY, {}, format="json")

    assert response.status_code == 201
    body = response.json()
    (transfer,) = body["transfers"]
    (order,) = body["orders"]
    assert (transfer["from_branch"], transfer["to_branch"], transfer["status"]) == (
        str(there.pk),
        str(here.pk),
        "REQUESTED",
    )
    assert (order["branch"], order["status"]) == (str(here.pk), "DRAFT")
    assert PurchaseOrder.objects.get().lines.get().quantity_ordered == 10


def test_applying_chosen_keys_makes_only_those(manager, short):
    client = api_client(manager)
    keys = client.get(PLAN).json()["keys"]
    transfer_key = next(key for key in keys if key.startswith("transfer:"))

    response = client.post(APPLY, {"choices": [transfer_key]}, format="json")

    assert response.status_code == 201
    assert (Transfer.objects.count(), PurchaseOrder.objects.count()) == (1, 0)


def test_an_idempotency_key_makes_a_retry_answer_the_same_without_new_drafts(manager, short):
    client = api_client(manager)

    first = client.post(APPLY, {}, format="json", HTTP_IDEMPOTENCY_KEY="replenish-1")
    again = client.post(APPLY, {}, format="json", HTTP_IDEMPOTENCY_KEY="replenish-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert (Transfer.objects.count(), PurchaseOrder.objects.count()) == (1, 1)


def test_applying_when_nothing_is_needed_is_a_conflict(manager, here):
    response = api_client(manager).post(APPLY, {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


def test_a_stale_key_is_a_conflict_and_makes_nothing(manager, short, there):
    client = api_client(manager)
    keys = client.get(PLAN).json()["keys"]
    StockLevel.objects.filter(branch=there).update(on_hand=0)

    response = client.post(APPLY, {"choices": keys}, format="json")

    assert response.status_code == 409
    assert (Transfer.objects.count(), PurchaseOrder.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"choices": []}, "choices"),
        ({"choices": "order:x"}, "choices"),
        ({"choices": ["order:not-a-uuid"]}, "choices"),
        ({"choices": ["x" * 500]}, "choices.0"),
        ({"choices": [None]}, "choices.0"),
        ({"branch": "not-a-uuid"}, "branch"),
        ({"branch": ["x"]}, "branch"),
        ({"branch": -1}, "branch"),
        ({"branch": 10**40}, "branch"),
        ({"everything": True}, "everything"),
    ],
)
def test_bad_input_is_refused_on_its_field(manager, short, body, field):
    response = api_client(manager).post(APPLY, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert PurchaseOrder.objects.count() == 0


@pytest.mark.parametrize("raw", ['{"choices": [1e999]}', '{"choices": [NaN]}', '{"choices": [-1]}'])
def test_numbers_where_keys_go_are_refused(manager, short, raw):
    response = api_client(manager).post(APPLY, raw, content_type="application/json")

    assert response.status_code == 400
    assert PurchaseOrder.objects.count() == 0


def test_a_body_that_is_not_an_object_is_refused(manager, short):
    response = api_client(manager).post(APPLY, "[1, 2]", content_type="application/json")

    assert response.status_code == 400


@pytest.mark.parametrize("branch", ["not-a-uuid", "1e999", "-1", "NaN"])
def test_a_malformed_branch_is_not_found(manager, branch):
    response = api_client(manager).get(PLAN, {"branch": branch})

    assert response.status_code == 404
    assert response.json()["code"]


def test_another_branch_is_not_found(manager, there):
    assert api_client(manager).get(PLAN, {"branch": str(there.pk)}).status_code == 404
    response = api_client(manager).post(APPLY, {"branch": str(there.pk)}, format="json")
    assert response.status_code == 404


def test_staff_are_refused(here, short):
    staff = MembershipFactory(branch=here, role=Role.STAFF).user

    assert api_client(staff).get(PLAN).status_code == 403
    assert api_client(staff).post(APPLY, {}, format="json").status_code == 403


def test_anonymous_callers_are_refused():
    assert api_client().get(PLAN).status_code in (401, 403)


def test_an_admin_sees_every_active_branch(here, there):
    BranchFactory(is_active=False)

    body = api_client(AdminFactory()).get(PLAN).json()

    assert [branch["branch_code"] for branch in body["branches"]] == ["HERE", "THERE"]


@pytest.mark.parametrize("size", [1, 10])
def test_the_plan_takes_the_same_queries_however_many_rows(manager, here, there, size):
    supplier = SupplierFactory()
    for product in ProductFactory.create_batch(size, low_stock_threshold=Decimal(5)):
        offered(supplier, product, preferred=True)
        StockLevel.objects.create(branch=here, product=product, on_hand=0)
        StockLevel.objects.create(branch=there, product=product, on_hand=15)
    client = api_client(manager)

    with CaptureQueriesContext(connection) as queries:
        body = client.get(PLAN).json()

    assert len(body["branches"][0]["rows"]) == size
    assert len(queries) <= API_QUERIES


API_QUERIES = 10


def test_an_inactive_branch_is_refused_on_its_field():
    closed = BranchFactory(is_active=False)

    response = api_client(AdminFactory()).get(PLAN, {"branch": str(closed.pk)})

    assert response.status_code == 400
    assert "branch" in response.json()["fields"]
