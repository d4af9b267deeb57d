"""The purchase order API: drafting, reading, editing, each step, the error answers, and
query counts that do not grow with the list or the order."""

from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import reverse
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from accounts import services as account_services
from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory, SupplierFactory
from inventory_project.tests.helpers import api_client
from inventory_project.wsgi import application
from transfers.models import PurchaseOrder, PurchaseOrderStatus, PurchaseReceipt
from transfers.tests.factories import drafted_order, offered, on_hand, sent_order

pytestmark = pytest.mark.django_db

NO_SUCH_ID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def manager(branch):
    return MembershipFactory(branch=branch, role=Role.MANAGER).user


@pytest.fixture
def staff(branch):
    return MembershipFactory(branch=branch, role=Role.STAFF).user


@pytest.fixture
def supplier():
    return SupplierFactory(code="ACME")


@pytest.fixture
def offer(supplier, product):
    return offered(supplier, product, pack_size="6", price="1.2500", minimum="12")


def draft_body(branch, supplier, *lines, **extra):
    return {
        "branch": str(branch.pk),
        "supplier": str(supplier.pk),
        "lines": [
            {"product": str(product.pk), "quantity": str(quantity)} for product, quantity in lines
        ],
        **extra,
    }


def post(user, name, order=None, body=None, key=None):
    args = [order if isinstance(order, str) else order.pk] if order is not None else []
    headers = {"Idempotency-Key": key} if key else {}
    return api_client(user).post(
        reverse(name, args=args), body or {}, format="json", **{"headers": headers}
    )


def step(user, name, order, body=None, key=None):
    return post(user, f"api-purchase-order-{name}", order, body, key)


# Drafting ---------------------------------------------------------------------------------


def test_a_manager_drafts_an_order(manager, branch, supplier, product, offer):
    response = post(
        manager, "api-purchase-orders", body=draft_body(branch, supplier, (product, 12), note="wk")
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    order = PurchaseOrder.objects.get()
    assert body["id"] == str(order.pk)
    assert body["status"] == "DRAFT"
    assert body["supplier"]["code"] == "ACME"
    assert body["note"] == "wk"
    assert body["available_steps"] == ["edit", "send", "cancel"]
    [line] = body["lines"]
    assert (line["quantity_ordered"], line["unit_price"]) == ("12.000", "1.2500")
    assert [event["step"] for event in body["events"]] == ["DRAFT"]


def test_a_line_error_names_the_line(manager, branch, supplier, product, offer):
    response = post(manager, "api-purchase-orders", body=draft_body(branch, supplier, (product, 7)))

    assert response.status_code == 400
    body = response.json()
    assert set(body["fields"]) == {"items.0.quantity"}
    assert "packs of 6" in body["fields"]["items.0.quantity"][0]
    assert not PurchaseOrder.objects.exists()


def test_staff_may_not_draft(staff, branch, supplier, product, offer):
    response = post(staff, "api-purchase-orders", body=draft_body(branch, supplier, (product, 12)))

    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"


def test_drafting_for_a_branch_one_cannot_see_is_404(manager, supplier, product, offer):
    response = post(
        manager, "api-purchase-orders", body=draft_body(BranchFactory(), supplier, (product, 12))
    )

    assert response.status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"lines": []},
        {"lines": "nope"},
        {"lines": [{"product": "x", "quantity": "12"}]},
        {"lines": [{"product": None, "quantity": "12"}]},
        {"lines": [{"quantity": "12"}]},
        {"quantity": "NaN"},
        {"quantity": "1e999"},
        {"quantity": "-12"},
        {"quantity": "99999999999999999999"},
        {"quantity": "twelve"},
        {"quantity": 12.5},
        {"unit_price": "-1"},
        {"unit_price": "NaN"},
        {"unit_price": "1e999"},
        {"unit_price": "0.00001"},
        {"supplier": "nonsense"},
        {"branch": "twelve"},
        {"on_hand": 5},
        {"lines": [{"product": "P", "quantity": "12", "colour": "red"}]},
        {"note": "x" * 501},
    ],
)
def test_bad_input_is_a_clear_400_never_a_500(actor, branch, supplier, product, offer, change):
    body = draft_body(branch, supplier, (product, 12))
    if "quantity" in change or "unit_price" in change:
        body["lines"][0].update(change)
    else:
        body.update(change)
        for line in body["lines"] if isinstance(body["lines"], list) else []:
            if line.get("product") == "P":
                line["product"] = str(product.pk)

    response = post(actor, "api-purchase-orders", body=body)

    assert response.status_code == 400, response.content
    assert response.json()["code"]
    assert response.json()["fields"]


def test_an_unknown_supplier_is_404_naming_it(actor, branch, product):
    body = draft_body(branch, SupplierFactory.build(), (product, 1))
    body["supplier"] = NO_SUCH_ID

    response = post(actor, "api-purchase-orders", body=body)

    assert response.status_code == 404
    assert response.json()["fields"] == {"supplier": [f"No supplier with id {NO_SUCH_ID}."]}


def test_drafting_twice_with_one_key_drafts_once(manager, branch, supplier, product, offer):
    body = draft_body(branch, supplier, (product, 12))

    first = post(manager, "api-purchase-orders", body=body, key="po-1")
    again = post(manager, "api-purchase-orders", body=body, key="po-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert PurchaseOrder.objects.count() == 1


def test_one_key_for_another_body_is_refused(manager, branch, supplier, product, offer):
    post(manager, "api-purchase-orders", body=draft_body(branch, supplier, (product, 12)), key="k")

    response = post(
        manager, "api-purchase-orders", body=draft_body(branch, supplier, (product, 18)), key="k"
    )

    assert response.status_code == 422


# Reading ----------------------------------------------------------------------------------


def test_members_see_their_branches_orders_only(actor, staff, branch, supplier, product, offer):
    own = drafted_order(actor, branch, supplier, (product, 12))
    drafted_order(actor, BranchFactory(), supplier, (product, 12))

    response = api_client(staff).get(reverse("api-purchase-orders"))

    assert [row["reference"] for row in response.json()["results"]] == [own.reference]
    assert response.json()["results"][0]["available_steps"] == []


def test_the_list_filters_by_branch_supplier_and_status(actor, branch, supplier, product, offer):
    drafted = drafted_order(actor, branch, supplier, (product, 12))
    sent = sent_order(actor, branch, supplier, (product, 12))
    other_supplier = SupplierFactory()
    elsewhere = drafted_order(actor, BranchFactory(), other_supplier, (product, 1))

    def refs(**params):
        response = api_client(actor).get(reverse("api-purchase-orders"), params)
        assert response.status_code == 200, response.json()
        return {row["reference"] for row in response.json()["results"]}

    assert refs(branch=str(branch.pk)) == {drafted.reference, sent.reference}
    assert refs(status="SENT") == {sent.reference}
    assert refs(supplier=str(other_supplier.pk)) == {elsewhere.reference}


@pytest.mark.parametrize(
    "params",
    [
        {"status": "LOST"},
        {"branch": "x"},
        {"supplier": "1e999"},
        {"cursor": "garbage"},
        {"ordering": "price"},
        {"offset": "99999999999999999999"},
    ],
)
def test_bad_list_parameters_are_400(actor, params):
    response = api_client(actor).get(reverse("api-purchase-orders"), params)

    assert response.status_code == 400


def test_the_list_pages_by_cursor(actor, branch, supplier, product, offer):
    orders = [drafted_order(actor, branch, supplier, (product, 12)) for _ in range(3)]
    client = api_client(actor)

    first = client.get(reverse("api-purchase-orders"), {"limit": 2}).json()
    second = client.get(first["next"]).json()

    seen = [row["reference"] for row in first["results"] + second["results"]]
    assert sorted(seen) == sorted(order.reference for order in orders)
    assert "cursor=" in first["next"]
    assert second["next"] is None


def test_the_list_takes_a_fixed_number_of_queries(
    actor, staff, branch, supplier, product, offer, django_assert_max_num_queries
):
    def read(user, count):
        with django_assert_max_num_queries(count) as captured:
            response = api_client(user).get(reverse("api-purchase-orders"), {"limit": 50})
        assert response.status_code == 200
        return len(captured), response.json()

    drafted_order(actor, branch, supplier, (product, 12))
    small_admin, _ = read(actor, 3)
    small_staff, _ = read(staff, 4)
    for _ in range(10):
        drafted_order(actor, branch, supplier, (product, 12))
    large_admin, body = read(actor, 3)
    large_staff, _ = read(staff, 4)

    assert (large_admin, large_staff) == (small_admin, small_staff)
    assert body["count"] == 11
    assert {row["line_count"] for row in body["results"]} == {1}


def test_an_order_is_read_in_a_fixed_number_of_queries(
    actor, staff, branch, supplier, django_assert_max_num_queries
):
    def read(order, user):
        with django_assert_max_num_queries(8) as captured:
            response = api_client(user).get(reverse("api-purchase-order", args=[order.pk]))
        assert response.status_code == 200
        return len(captured), response.json()

    one = ProductFactory()
    small = sent_order(actor, branch, supplier, (one, 1))
    step(actor, "receive", small, {"lines": [{"product": str(one.pk), "quantity": "1"}]})
    products = ProductFactory.create_batch(10)
    large = sent_order(actor, branch, supplier, *[(p, 2) for p in products])
    step(
        actor,
        "receive",
        large,
        {"lines": [{"product": str(p.pk), "quantity": "1"} for p in products]},
    )

    assert read(small, staff)[0] == read(large, staff)[0]
    _, body = read(large, staff)
    assert len(body["lines"]) == 10
    assert {len(line["receipts"]) for line in body["lines"]} == {1}
    assert body["available_steps"] == ["receive"]


@pytest.mark.parametrize("order_id", ["nonsense", NO_SUCH_ID, "1", "9" * 40])
def test_an_unknown_or_malformed_order_is_a_json_404(actor, order_id):
    response = api_client(actor).get(f"/api/v1/purchase-orders/{order_id}/")

    assert response.status_code == 404
    assert response.json()["code"]


def test_another_branch_s_order_is_404_to_a_manager(actor, manager, supplier, product, offer):
    order = drafted_order(actor, BranchFactory(), supplier, (product, 12))

    assert api_client(manager).get(reverse("api-purchase-order", args=[order.pk])).status_code == (
        404
    )
    assert step(manager, "send", order).status_code == 404


# Editing ----------------------------------------------------------------------------------


def test_a_draft_is_edited_with_patch(manager, branch, supplier, product, offer):
    order = drafted_order(manager, branch, supplier, (product, 12))

    response = api_client(manager).patch(
        reverse("api-purchase-order", args=[order.pk]),
        {"lines": [{"product": str(product.pk), "quantity": "24", "unit_price": "1.1"}]},
        format="json",
        headers={"Idempotency-Key": "edit-1"},
    )

    assert response.status_code == 200, response.json()
    [line] = response.json()["lines"]
    assert (line["quantity_ordered"], line["unit_price"]) == ("24.000", "1.1000")
    assert response.json()["events"][-1]["step"] == "EDIT"


def test_a_sent_order_is_not_edited(actor, branch, supplier, product, offer):
    order = sent_order(actor, branch, supplier, (product, 12))

    response = api_client(actor).patch(
        reverse("api-purchase-order", args=[order.pk]),
        {"lines": [{"product": str(product.pk), "quantity": "24"}]},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"


# Steps ------------------------------------------------------------------------------------


def test_an_order_is_sent_received_in_parts_and_closed_short(
    manager, staff, branch, supplier, product, offer
):
    order = drafted_order(manager, branch, supplier, (product, 12))

    sent = step(manager, "send", order, {"note": "asap"}, key="send-1")
    assert sent.status_code == 200, sent.json()
    assert sent.json()["status"] == "SENT"
    assert sent.json()["mail_status"] == "PENDING"
    assert sent.json()["expected_on"]
    assert sent.json()["available_steps"] == ["receive", "cancel"]

    lines = [{"product": str(product.pk), "quantity": "5", "unit_cost": "1.3"}]
    received = step(staff, "receive", order, {"lines": lines}, key="rcv-1")
    again = step(staff, "receive", order, {"lines": lines}, key="rcv-1")
    assert received.status_code == again.status_code == 200
    assert received.json()["status"] == "PARTIALLY_RECEIVED"
    assert received.json()["available_steps"] == ["receive"]
    assert on_hand(branch, product) == 5
    assert PurchaseReceipt.objects.get().unit_cost == Decimal("1.3")

    closed = step(manager, "close", order, {"reason": "discontinued"})
    assert closed.status_code == 200
    assert closed.json()["status"] == "RECEIVED"
    assert closed.json()["short_reason"] == "discontinued"


def test_staff_may_receive_but_not_send(actor, staff, branch, supplier, product, offer):
    order = drafted_order(actor, branch, supplier, (product, 12))

    assert step(staff, "send", order).status_code == 403
    assert step(staff, "cancel", order).status_code == 403


def test_receiving_a_cancelled_order_is_409_in_words(actor, branch, supplier, product, offer):
    order = sent_order(actor, branch, supplier, (product, 12))
    step(actor, "cancel", order, {"reason": "not needed"})

    response = step(
        actor, "receive", order, {"lines": [{"product": str(product.pk), "quantity": "12"}]}
    )

    assert response.status_code == 409
    assert response.json() == {
        "code": "illegal_transition",
        "message": f"{order.reference} is cancelled; it takes no receipts.",
        "fields": {},
    }


def test_over_delivery_beyond_the_tolerance_names_the_reason_field(
    actor, branch, supplier, product, offer
):
    order = sent_order(actor, branch, supplier, (product, 12))
    lines = [{"product": str(product.pk), "quantity": "20"}]

    refused = step(actor, "receive", order, {"lines": lines})
    lines[0]["reason"] = "a full carton came"
    accepted = step(actor, "receive", order, {"lines": lines})

    assert refused.status_code == 400
    assert set(refused.json()["fields"]) == {"items.0.reason"}
    assert accepted.status_code == 200
    assert accepted.json()["lines"][0]["receipts"][0]["reason"] == "a full carton came"


def test_sending_to_a_supplier_without_e_mail_is_400_and_the_order_stays_a_draft(
    actor, branch, product
):
    silent = SupplierFactory(email="")
    order = drafted_order(actor, branch, silent, (product, 1))

    response = step(actor, "send", order)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"supplier"}
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.DRAFT


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("receive", {"lines": []}),
        ("receive", {"lines": [{"product": NO_SUCH_ID, "quantity": "1e999"}]}),
        ("receive", {"lines": [{"product": NO_SUCH_ID, "quantity": "1", "unit_cost": "NaN"}]}),
        ("receive", {}),
        ("close", {}),
        ("close", {"reason": 5, "extra": True}),
        ("send", {"note": ["a"]}),
        ("cancel", {"reason": "x" * 501}),
    ],
)
def test_bad_step_input_is_400(actor, branch, supplier, product, offer, name, body):
    order = sent_order(actor, branch, supplier, (product, 12))

    response = step(actor, name, order, body)

    assert response.status_code == 400, response.content


def test_an_illegal_step_is_409(actor, branch, supplier, product, offer):
    order = drafted_order(actor, branch, supplier, (product, 12))

    response = step(actor, "close", order, {"reason": "short"})

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"


# The published schema ---------------------------------------------------------------------


@pytest.fixture
def api_schema():
    # The WSGI handler would otherwise close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_every_purchase_order_answer_keeps_to_the_schema(
    api_schema, actor, branch, supplier, product, offer
):
    drafted = drafted_order(actor, branch, supplier, (product, 12))
    dropped = drafted_order(actor, branch, supplier, (product, 12))
    _, token = account_services.sign_in_device(user=actor, device="schema check")
    line = {"product": str(product.pk), "quantity": "12"}
    calls = [
        ("/purchase-orders/", "GET", None, None, {"status": "DRAFT"}),
        ("/purchase-orders/", "POST", None, draft_body(branch, supplier, (product, 12)), None),
        ("/purchase-orders/", "POST", None, draft_body(branch, supplier, (product, 1)), None),
        ("/purchase-orders/{order_id}/", "GET", drafted, None, None),
        ("/purchase-orders/{order_id}/", "PATCH", drafted, {"lines": [line], "note": "n"}, None),
        ("/purchase-orders/{order_id}/send/", "POST", drafted, {}, None),
        ("/purchase-orders/{order_id}/receive/", "POST", drafted, {"lines": [line]}, None),
        ("/purchase-orders/{order_id}/receive/", "POST", drafted, {"lines": [line]}, None),
        ("/purchase-orders/{order_id}/close/", "POST", drafted, {"reason": "x"}, None),
        ("/purchase-orders/{order_id}/cancel/", "POST", dropped, {"reason": "x"}, None),
        ("/purchase-orders/{order_id}/", "GET", NO_SUCH_ID, None, None),
    ]
    statuses = []
    for path, method, order, body, query in calls:
        extra = {"body": body, "media_type": "application/json"} if body is not None else {}
        order_id = order if isinstance(order, str) else (order.pk if order else None)
        case = api_schema[f"/api/v1{path}"][method].Case(
            path_parameters={"order_id": str(order_id)} if order_id else {},
            query=query or {},
            headers={"Authorization": f"Token {token}"},
            **extra,
        )
        response = case.call()
        case.validate_response(
            response, checks=[status_code_conformance, response_schema_conformance]
        )
        statuses.append(response.status_code)

    assert statuses == [200, 201, 400, 200, 200, 200, 200, 409, 409, 200, 404]


def test_one_key_for_another_edit_is_refused(manager, branch, supplier, product, offer):
    order = drafted_order(manager, branch, supplier, (product, 12))
    client = api_client(manager)
    url = reverse("api-purchase-order", args=[order.pk])

    def edit(quantity):
        lines = [{"product": str(product.pk), "quantity": str(quantity)}]
        return client.patch(url, {"lines": lines}, format="json", headers={"Idempotency-Key": "e"})

    assert edit(18).status_code == 200
    assert edit(18).status_code == 200
    assert edit(24).status_code == 422
    assert order.lines.get().quantity_ordered == 18
    assert order.events.filter(step="EDIT").count() == 1
