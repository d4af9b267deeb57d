from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import reverse
from django.utils import timezone
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from accounts import services as account_services
from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import api_client
from inventory_project.wsgi import application
from stock.models import MovementKind, StockMovement
from transfers import services
from transfers.models import Transfer, TransferStatus
from transfers.tests.factories import on_hand, requested, sent, stocked

pytestmark = pytest.mark.django_db

NO_SUCH_ID = "00000000-0000-0000-0000-000000000000"
SCHEMA_CHECKS = [status_code_conformance, response_schema_conformance]


def start(user, name, source, destination, lines, **extra):
    body = {"from_branch": str(source.pk), "to_branch": str(destination.pk), "lines": lines}
    return api_client(user).post(reverse(name), {**body, **extra}, format="json")


def step(user, name, transfer, body=None, key=None):
    transfer_id = transfer if isinstance(transfer, str) else transfer.pk
    headers = {"Idempotency-Key": key} if key else {}
    return api_client(user).post(
        reverse(f"api-transfer-{name}", args=[transfer_id]),
        body or {},
        format="json",
        headers=headers,
    )


def shipped(actor, source, destination, *pairs):
    transfer = sent(actor, source, destination, *pairs)
    return services.ship_transfer(actor=actor, transfer_id=transfer.pk)


def listed(user, **params):
    response = api_client(user).get(reverse("api-transfers"), params)
    assert response.status_code == 200, response.json()
    return response.json()


def references(user, **params) -> list[str]:
    return [row["reference"] for row in listed(user, **params)["results"]]


# Starting ---------------------------------------------------------------------------------


def test_a_destination_manager_requests_stock(destination_manager, source, destination):
    product = ProductFactory(name="Green tea")

    response = start(
        destination_manager,
        "api-transfer-request",
        source,
        destination,
        [{"product": str(product.pk), "quantity": "5"}],
        note="for the weekend",
    )

    assert response.status_code == 201
    body = response.json()
    transfer = Transfer.objects.get()
    assert body["id"] == str(transfer.pk)
    assert body["reference"] == transfer.reference
    assert body["kind"] == "PULL"
    assert body["status"] == "REQUESTED"
    assert body["from_branch"] == {
        "id": str(source.pk),
        "code": source.code,
        "name": source.name,
    }
    assert body["to_branch"]["code"] == destination.code
    assert body["requested_by"] == str(destination_manager.pk)
    assert body["requested_by_name"] == destination_manager.full_name
    assert body["note"] == "for the weekend"
    assert body["shortfall_reason"] == ""
    assert body["line_count"] == 1
    assert body["approved_at"] is None
    assert body["lines"] == [
        {
            "product": str(product.pk),
            "sku": product.sku,
            "product_name": "Green tea",
            "unit": "pcs",
            "requested": "5.000",
            "shipped": None,
            "received": "0.000",
            "outstanding": "0.000",
            "shortfall": "0.000",
        }
    ]
    assert body["available_steps"] == ["cancel"]
    [event] = body["events"]
    assert event["actor"] == str(destination_manager.pk)
    assert event["actor_name"] == destination_manager.full_name
    assert (event["from_status"], event["to_status"]) == ("", "REQUESTED")
    assert event["note"] == "for the weekend"


def test_a_source_manager_sends_stock_already_approved(source_manager, source, destination):
    first, second = ProductFactory.create_batch(2)

    response = start(
        source_manager,
        "api-transfer-send",
        source,
        destination,
        [{"product": str(first.pk), "quantity": 2}, {"product": str(second.pk), "quantity": 3}],
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["status"]) == ("PUSH", "APPROVED")
    assert body["available_steps"] == ["ship", "cancel"]
    assert body["approved_at"] is not None
    assert body["line_count"] == 2
    assert sorted(line["requested"] for line in body["lines"]) == ["2.000", "3.000"]


# The whole workflow -----------------------------------------------------------------------


def test_a_request_is_approved_shipped_and_received_in_parts(
    actor, source_manager, destination_manager, destination_staff, source, destination
):
    first, second = ProductFactory.create_batch(2)
    stocked(source, first, 10)
    stocked(source, second, 10)
    created = start(
        destination_manager,
        "api-transfer-request",
        source,
        destination,
        [{"product": str(first.pk), "quantity": 6}, {"product": str(second.pk), "quantity": 4}],
    ).json()
    transfer_id = created["id"]

    approved = step(
        source_manager,
        "approve",
        transfer_id,
        {"quantities": {str(second.pk): "3"}, "note": "only 3 spare"},
    )
    assert approved.status_code == 200
    assert approved.json()["status"] == "APPROVED"
    requested_now = {line["sku"]: line["requested"] for line in approved.json()["lines"]}
    assert requested_now == {first.sku: "6.000", second.sku: "3.000"}

    shipped_ = step(source_manager, "ship", transfer_id)
    assert shipped_.status_code == 200
    assert shipped_.json()["status"] == "IN_TRANSIT"
    assert shipped_.json()["shipped_at"] is not None
    assert (on_hand(source, first), on_hand(source, second)) == (4, 7)

    part = step(destination_staff, "receive", transfer_id, {"quantities": {str(first.pk): 6}})
    assert part.status_code == 200
    assert part.json()["status"] == "PARTIALLY_RECEIVED"
    outstanding = {line["sku"]: line["outstanding"] for line in part.json()["lines"]}
    assert outstanding == {first.sku: "0.000", second.sku: "3.000"}

    rest = step(destination_staff, "receive", transfer_id, {"quantities": {str(second.pk): 3}})
    assert rest.status_code == 200
    body = rest.json()
    assert body["status"] == "RECEIVED"
    assert body["received_at"] is not None
    assert (on_hand(destination, first), on_hand(destination, second)) == (6, 3)
    assert [(e["from_status"], e["to_status"]) for e in body["events"]] == [
        ("", "REQUESTED"),
        ("REQUESTED", "APPROVED"),
        ("APPROVED", "IN_TRANSIT"),
        ("IN_TRANSIT", "PARTIALLY_RECEIVED"),
        ("PARTIALLY_RECEIVED", "RECEIVED"),
    ]
    assert body["events"][1]["note"] == "only 3 spare"
    assert body["events"][3]["actor"] == str(destination_staff.pk)


def test_the_receiver_closes_a_transfer_short(actor, destination_staff, source, destination):
    product = ProductFactory()
    stocked(source, product, 10)
    transfer = shipped(actor, source, destination, (product, 5))
    step(destination_staff, "receive", transfer, {"quantities": {str(product.pk): 3}})

    response = step(destination_staff, "close", transfer, {"reason": "DAMAGED", "note": "crushed"})

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["shortfall_reason"]) == ("RECEIVED", "DAMAGED")
    assert (body["events"][-1]["step"], body["events"][-1]["note"]) == ("CLOSE", "crushed")
    assert body["available_steps"] == []
    assert on_hand(destination, product) == 3


def test_a_transfer_closed_short_has_nothing_outstanding_and_says_what_is_short(
    actor, destination_staff, source, destination
):
    """A client adding up ``outstanding`` counts what is still on its way, not what was lost."""
    first, second = ProductFactory.create_batch(2)
    stocked(source, first, 10)
    stocked(source, second, 10)
    transfer = shipped(actor, source, destination, (first, 5), (second, 4))
    step(destination_staff, "receive", transfer, {"quantities": {str(first.pk): 3}})
    before = step(destination_staff, "close", transfer, {"reason": "LOST"})

    after = api_client(destination_staff).get(reverse("api-transfer", args=[transfer.pk]))

    for response in (before, after):
        lines = {line["sku"]: line for line in response.json()["lines"]}
        assert {sku: line["outstanding"] for sku, line in lines.items()} == {
            first.sku: "0.000",
            second.sku: "0.000",
        }
        assert {sku: line["shortfall"] for sku, line in lines.items()} == {
            first.sku: "2.000",
            second.sku: "4.000",
        }


def test_goods_under_way_are_outstanding_and_not_short(
    actor, destination_staff, source, destination
):
    product = ProductFactory()
    stocked(source, product, 10)
    transfer = shipped(actor, source, destination, (product, 5))

    response = step(destination_staff, "receive", transfer, {"quantities": {str(product.pk): 3}})

    [line] = response.json()["lines"]
    assert (line["outstanding"], line["shortfall"]) == ("2.000", "0.000")
    assert response.json()["available_steps"] == ["receive", "close"]


def test_the_requester_cancels_a_request(destination_manager, source, destination, product):
    transfer = requested(destination_manager, source, destination, (product, 1))

    response = step(destination_manager, "cancel", transfer, {"reason": "found some"})

    assert response.status_code == 200
    assert response.json()["status"] == "CANCELLED"
    assert response.json()["cancelled_at"] is not None
    assert response.json()["events"][-1]["note"] == "found some"


def test_a_cancel_needs_no_reason(source_manager, source, destination, product):
    transfer = sent(source_manager, source, destination, (product, 1))

    response = step(source_manager, "cancel", transfer)

    assert response.status_code == 200
    assert response.json()["status"] == "CANCELLED"


def test_the_source_rejects_a_request_saying_why(
    source_manager, destination_manager, source, destination, product
):
    transfer = requested(destination_manager, source, destination, (product, 1))

    response = step(source_manager, "reject", transfer, {"reason": "none left"})

    assert response.status_code == 200
    assert response.json()["status"] == "CANCELLED"
    last = response.json()["events"][-1]
    assert (last["step"], last["note"]) == ("REJECT", "none left")


# Refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name", "needs_id"),
    [
        ("get", "api-transfers", False),
        ("get", "api-transfer", True),
        ("post", "api-transfer-request", False),
        ("post", "api-transfer-send", False),
        *[("post", f"api-transfer-{s}", True) for s in ("approve", "ship", "receive")],
        *[("post", f"api-transfer-{s}", True) for s in ("close", "cancel", "reject")],
    ],
)
def test_every_endpoint_needs_credentials(
    actor, source, destination, product, method, name, needs_id
):
    transfer = sent(actor, source, destination, (product, 1))
    url = reverse(name, args=[transfer.pk] if needs_id else [])

    response = getattr(api_client(), method)(url, {}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert Transfer.objects.get().status == TransferStatus.APPROVED


def test_staff_may_not_ship(actor, source, destination, product):
    staff = MembershipFactory(branch=source, role=Role.STAFF).user
    stocked(source, product, 5)
    transfer = sent(actor, source, destination, (product, 2))

    response = step(staff, "ship", transfer)

    assert response.status_code == 403
    assert response.json() == {
        "code": "not_permitted",
        "message": f"You may not ship transfer {transfer.reference}.",
        "fields": {},
    }
    assert on_hand(source, product) == 5
    assert Transfer.objects.get().status == TransferStatus.APPROVED


def test_the_destination_may_not_approve_its_own_request(
    destination_manager, source, destination, product
):
    transfer = requested(destination_manager, source, destination, (product, 1))

    response = step(destination_manager, "approve", transfer)

    assert response.status_code == 403
    assert response.json()["message"] == f"You may not approve transfer {transfer.reference}."
    assert Transfer.objects.get().status == TransferStatus.REQUESTED


def test_staff_may_not_request(destination_staff, source, destination, product):
    response = start(
        destination_staff,
        "api-transfer-request",
        source,
        destination,
        [{"product": str(product.pk), "quantity": 1}],
    )

    assert response.status_code == 403
    assert not Transfer.objects.exists()


def test_another_branchs_transfer_is_not_found(actor, source, destination, product):
    stranger = MembershipFactory(role=Role.MANAGER).user
    stocked(source, product, 5)
    transfer = sent(actor, source, destination, (product, 1))

    seen = api_client(stranger).get(reverse("api-transfer", args=[transfer.pk]))
    shipped_ = step(stranger, "ship", transfer)
    cancelled = step(stranger, "cancel", transfer)

    for response in (seen, shipped_, cancelled):
        assert response.status_code == 404
        assert response.json() == {
            "code": "unknown_transfer",
            "message": f"No transfer with id {transfer.pk}.",
            "fields": {},
        }
    assert on_hand(source, product) == 5
    assert references(stranger) == []


@pytest.mark.parametrize("transfer_id", ["not-a-uuid", NO_SUCH_ID])
def test_a_malformed_or_unknown_id_is_not_found(actor, transfer_id):
    seen = api_client(actor).get(reverse("api-transfer", args=[transfer_id]))
    shipped_ = step(actor, "ship", transfer_id)

    for response in (seen, shipped_):
        assert response.status_code == 404
        assert response.json()["code"] == "unknown_transfer"
        assert response.json()["fields"] == {}


def test_a_step_out_of_order_is_a_conflict(actor, source, destination, product):
    stocked(source, product, 5)
    transfer = requested(actor, source, destination, (product, 1))

    response = step(actor, "ship", transfer)

    assert response.status_code == 409
    assert response.json() == {
        "code": "illegal_transition",
        "message": f"Transfer {transfer.reference} is requested; it cannot be shipped.",
        "fields": {},
    }
    assert on_hand(source, product) == 5


def test_a_transfer_is_not_approved_twice(actor, source, destination, product):
    transfer = sent(actor, source, destination, (product, 1))

    response = step(actor, "approve", transfer)

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"


def test_shipping_more_than_the_source_holds_is_a_conflict_and_moves_nothing(
    actor, source, destination
):
    first, second = ProductFactory.create_batch(2)
    stocked(source, first, 10)
    stocked(source, second, 1)
    transfer = sent(actor, source, destination, (first, 6), (second, 4))

    response = step(actor, "ship", transfer)

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert second.sku in response.json()["message"]
    assert on_hand(source, first) == 10
    assert not StockMovement.objects.filter(kind=MovementKind.TRANSFER_OUT).exists()
    assert Transfer.objects.get().status == TransferStatus.APPROVED


@pytest.mark.parametrize(
    ("lines", "field", "message"),
    [
        ([{"quantity": "0"}], "lines.0.quantity", "greater than zero"),
        ([{"quantity": "-2"}], "lines.0.quantity", "greater than zero"),
        ([{"quantity": "1.5"}], "lines.0.quantity", "whole number of pieces"),
        ([{"quantity": "lots"}], "lines.0.quantity", "A valid number is required."),
        ([{"product": "nope"}], "lines.0.product", "Must be a valid UUID."),
        ([{}, {}], "lines.1.product", "Line 1 is for the same product; combine them."),
        ([{"colour": "red"}], "lines.0.colour", "This field is not accepted here."),
        ([], "lines", "Ensure this field has at least 1 elements."),
        ([{}] * 501, "lines", "Ensure this field has no more than 500 elements."),
    ],
    ids=[
        "zero",
        "negative",
        "fraction",
        "text",
        "bad-id",
        "duplicate",
        "unknown-field",
        "empty",
        "too-many",
    ],
)
def test_bad_lines_are_named_and_start_nothing(actor, source, destination, lines, field, message):
    product = ProductFactory()

    response = start(
        actor,
        "api-transfer-send",
        source,
        destination,
        [{"product": str(product.pk), "quantity": "1", **line} for line in lines],
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert message in response.json()["fields"][field][0]
    assert not Transfer.objects.exists()


def test_the_same_branch_at_both_ends_is_refused(actor, source, product):
    response = start(
        actor, "api-transfer-send", source, source, [{"product": str(product.pk), "quantity": 1}]
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "A transfer needs two different branches.",
        "fields": {"to_branch": ["A transfer needs two different branches."]},
    }
    assert not Transfer.objects.exists()


def test_an_unknown_product_is_named(actor, source, destination):
    response = start(
        actor, "api-transfer-send", source, destination, [{"product": NO_SUCH_ID, "quantity": 1}]
    )

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_product"
    assert list(response.json()["fields"]) == ["lines.0.product"]


@pytest.mark.parametrize("protected", ["status", "requested_by", "kind"])
def test_a_start_setting_protected_fields_is_refused(
    actor, source, destination, product, protected
):
    response = start(
        actor,
        "api-transfer-send",
        source,
        destination,
        [{"product": str(product.pk), "quantity": 1}],
        **{protected: "RECEIVED"},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "not_accepted"
    assert response.json()["fields"] == {protected: ["This field is not accepted here."]}
    assert not Transfer.objects.exists()


def test_a_step_refuses_unknown_fields(actor, source, destination, product):
    stocked(source, product, 5)
    transfer = sent(actor, source, destination, (product, 1))

    response = step(actor, "ship", transfer, {"status": "RECEIVED"})

    assert response.status_code == 400
    assert response.json()["code"] == "not_accepted"
    assert response.json()["fields"] == {"status": ["This field is not accepted here."]}
    assert on_hand(source, product) == 5


def test_receiving_more_than_was_shipped_is_refused(actor, source, destination, product):
    stocked(source, product, 10)
    transfer = shipped(actor, source, destination, (product, 4))
    step(actor, "receive", transfer, {"quantities": {str(product.pk): 3}})

    response = step(actor, "receive", transfer, {"quantities": {str(product.pk): 2}})

    assert response.status_code == 400
    field = f"quantities.{product.pk}"
    assert list(response.json()["fields"]) == [field]
    assert "Only 1 pcs" in response.json()["fields"][field][0]
    assert on_hand(destination, product) == 3
    assert Transfer.objects.get().status == TransferStatus.PARTIALLY_RECEIVED


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("receive", {}, "quantities"),
        ("receive", {"quantities": {}}, "quantities"),
        ("receive", {"quantities": {"{product}": "-1"}}, "quantities.{product}"),
        ("receive", {"quantities": {"{product}": "x"}}, "quantities.{product}"),
        ("receive", {"quantities": {"nope": "1"}}, "quantities.nope"),
        ("receive", {"quantities": {NO_SUCH_ID: "1"}}, f"quantities.{NO_SUCH_ID}"),
        ("receive", {"quantities": [1]}, "quantities"),
        ("close", {"reason": "STOLEN"}, "reason"),
        ("close", {}, "reason"),
    ],
    ids=[
        "receive-nothing",
        "receive-empty",
        "receive-negative",
        "receive-text",
        "receive-bad-id",
        "receive-not-on-transfer",
        "receive-list",
        "close-unknown-reason",
        "close-no-reason",
    ],
)
def test_bad_step_input_is_named_and_changes_nothing(actor, source, destination, name, body, field):
    product = ProductFactory()
    stocked(source, product, 10)
    transfer = shipped(actor, source, destination, (product, 4))
    if isinstance(body.get("quantities"), dict):
        body = {
            "quantities": {k.format(product=product.pk): v for k, v in body["quantities"].items()}
        }

    response = step(actor, name, transfer, body)

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field.format(product=product.pk)]
    assert on_hand(destination, product) == 0
    assert Transfer.objects.get().status == TransferStatus.IN_TRANSIT


def test_approval_refuses_a_zero_quantity(actor, source, destination, product):
    transfer = requested(actor, source, destination, (product, 5))

    response = step(actor, "approve", transfer, {"quantities": {str(product.pk): 0}})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [f"quantities.{product.pk}"]
    assert Transfer.objects.get().status == TransferStatus.REQUESTED


@pytest.mark.parametrize("body", [{}, {"reason": "  "}], ids=["missing", "blank"])
def test_a_rejection_needs_a_reason(actor, source, destination, product, body):
    transfer = requested(actor, source, destination, (product, 1))

    response = step(actor, "reject", transfer, body)

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reason"]
    assert Transfer.objects.get().status == TransferStatus.REQUESTED


def test_a_rejection_reason_of_the_accepted_length_is_kept(actor, source, destination, product):
    transfer = requested(actor, source, destination, (product, 1))

    response = step(actor, "reject", transfer, {"reason": "x" * 500})

    assert response.status_code == 200
    assert response.json()["events"][-1]["note"] == "x" * 500


def test_a_closing_note_of_the_accepted_length_is_kept(actor, source, destination, product):
    stocked(source, product, 5)
    transfer = shipped(actor, source, destination, (product, 1))

    response = step(actor, "close", transfer, {"reason": "LOST", "note": "x" * 500})

    assert response.status_code == 200
    assert response.json()["events"][-1]["step"] == "CLOSE"


# Retries ----------------------------------------------------------------------------------


def test_a_retried_shipment_is_answered_again_and_ships_once(actor, source, destination, product):
    stocked(source, product, 10)
    transfer = sent(actor, source, destination, (product, 4))

    first = step(actor, "ship", transfer, {"note": "van 2"}, key="ship-once-1")
    again = step(actor, "ship", transfer, {"note": "van 2"}, key="ship-once-1")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert on_hand(source, product) == 6
    assert StockMovement.objects.filter(kind=MovementKind.TRANSFER_OUT).count() == 1
    assert Transfer.objects.get().events.count() == 2


def test_a_key_reused_for_another_transfer_is_refused(actor, source, destination, product):
    stocked(source, product, 10)
    first = sent(actor, source, destination, (product, 1))
    second = sent(actor, source, destination, (product, 1))

    step(actor, "ship", first, key="ship-k")
    response = step(actor, "ship", second, key="ship-k")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Transfer.objects.get(pk=second.pk).status == TransferStatus.APPROVED


def test_a_retried_request_starts_one_transfer(destination_manager, source, destination, product):
    body = {
        "from_branch": str(source.pk),
        "to_branch": str(destination.pk),
        "lines": [{"product": str(product.pk), "quantity": 1}],
    }
    client = api_client(destination_manager)
    url = reverse("api-transfer-request")

    first = client.post(url, body, format="json", headers={"Idempotency-Key": "req-1"})
    again = client.post(url, body, format="json", headers={"Idempotency-Key": "req-1"})

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Transfer.objects.count() == 1


# Reading ----------------------------------------------------------------------------------


def test_members_see_transfers_into_and_out_of_their_branches_only(
    actor, destination_staff, source, destination, product
):
    inbound = sent(actor, source, destination, (product, 1))
    outbound = sent(actor, destination, source, (product, 1))
    sent(actor, source, BranchFactory(), (product, 1))

    body = listed(destination_staff)

    assert body["count"] == 2
    assert {row["reference"] for row in body["results"]} == {
        inbound.reference,
        outbound.reference,
    }
    detail = api_client(destination_staff).get(reverse("api-transfer", args=[outbound.pk]))
    assert detail.status_code == 200


def test_the_list_is_newest_first_and_says_what_each_holds(actor, source, destination):
    first, second = ProductFactory.create_batch(2)
    older = sent(actor, source, destination, (first, 1), (second, 2))
    newer = requested(actor, source, destination, (first, 1))
    Transfer.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(hours=1))

    rows = listed(actor)["results"]

    assert [row["reference"] for row in rows] == [newer.reference, older.reference]
    assert [row["line_count"] for row in rows] == [1, 2]
    assert rows[0]["from_branch"]["code"] == source.code
    assert rows[0]["requested_by_name"] == actor.full_name
    assert "lines" not in rows[0]
    assert references(actor, ordering="created") == [older.reference, newer.reference]


def test_the_list_filters_by_branch_direction_status_and_time(actor, product):
    here, there, elsewhere = BranchFactory.create_batch(3)
    now = timezone.now()
    inbound = sent(actor, there, here, (product, 1))
    outbound = requested(actor, here, there, (product, 1))
    unrelated = sent(actor, there, elsewhere, (product, 1))
    services.cancel_transfer(actor=actor, transfer_id=unrelated.pk)
    for transfer, hours_ago in ((inbound, 3), (outbound, 2), (unrelated, 1)):
        Transfer.objects.filter(pk=transfer.pk).update(created_at=now - timedelta(hours=hours_ago))

    def refs(**params):
        return sorted(references(actor, **params))

    assert refs(branch=here.pk) == sorted([inbound.reference, outbound.reference])
    assert refs(branch=here.pk, direction="in") == [inbound.reference]
    assert refs(branch=here.pk, direction="out") == [outbound.reference]
    assert refs(branch=there.pk, direction="out") == sorted(
        [inbound.reference, unrelated.reference]
    )
    assert refs(status="REQUESTED") == [outbound.reference]
    assert refs(status="CANCELLED") == [unrelated.reference]
    assert refs(branch=there.pk, status="APPROVED") == [inbound.reference]
    after = (now - timedelta(hours=2)).isoformat()
    before = (now - timedelta(minutes=90)).isoformat()
    assert refs(created_after=after) == sorted([outbound.reference, unrelated.reference])
    assert refs(created_after=after, created_before=before) == [outbound.reference]
    assert refs(created_before=after) == [inbound.reference]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"direction": "in"}, "direction"),
        ({"direction": "sideways", "branch": NO_SUCH_ID}, "direction"),
        ({"branch": "nope"}, "branch"),
        ({"status": "LOST"}, "status"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"ordering": "reference"}, "ordering"),
    ],
    ids=["direction-without-branch", "bad-direction", "bad-branch", "status", "time", "order"],
)
def test_bad_list_filters_are_refused(actor, params, field):
    response = api_client(actor).get(reverse("api-transfers"), params)

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_direction_without_branch_says_what_is_missing(actor):
    response = api_client(actor).get(reverse("api-transfers"), {"direction": "out"})

    assert response.json() == {
        "code": "invalid",
        "message": "direction: Name the branch the direction is relative to.",
        "fields": {"direction": ["Name the branch the direction is relative to."]},
    }


def test_the_list_takes_a_fixed_number_of_queries(
    actor, destination_staff, source, destination, django_assert_num_queries
):
    products = ProductFactory.create_batch(3)
    for _ in range(3):
        sent(actor, source, destination, *[(p, 1) for p in products])
    with django_assert_num_queries(2):  # page, count; an ADMIN may do anything anywhere
        api_client(actor).get(reverse("api-transfers"), {"limit": 2})
    with django_assert_num_queries(3):  # each with the visibility subquery; the reader's rights
        api_client(destination_staff).get(reverse("api-transfers"), {"limit": 2})

    for _ in range(20):
        requester = AdminFactory()
        requested(requester, source, destination, *[(p, 1) for p in products])
    with django_assert_num_queries(2):
        response = api_client(actor).get(reverse("api-transfers"), {"limit": 20})
    with django_assert_num_queries(3):
        member = api_client(destination_staff).get(reverse("api-transfers"), {"limit": 20})

    assert response.json()["count"] == member.json()["count"] == 23
    assert len(response.json()["results"]) == 20
    assert {row["line_count"] for row in response.json()["results"]} == {3}
    assert {tuple(row["available_steps"]) for row in response.json()["results"]} == {
        ("approve", "cancel", "reject")
    }
    assert {tuple(row["available_steps"]) for row in member.json()["results"]} == {()}


def test_the_list_says_per_row_what_the_reader_may_do(
    source_manager, destination_manager, source, destination, product
):
    pulled = requested(destination_manager, source, destination, (product, 1))
    pushed = sent(source_manager, source, destination, (product, 1))
    elsewhere = BranchFactory()
    MembershipFactory(user=source_manager, branch=elsewhere, role=Role.STAFF)
    inbound = sent(AdminFactory(), destination, elsewhere, (product, 1))

    def steps(user):
        rows = listed(user)["results"]
        return {row["reference"]: row["available_steps"] for row in rows}

    assert steps(source_manager) == {
        pulled.reference: ["approve", "cancel", "reject"],
        pushed.reference: ["ship", "cancel"],
        inbound.reference: [],
    }
    assert steps(destination_manager) == {
        pulled.reference: ["cancel"],
        pushed.reference: [],
        inbound.reference: ["ship", "cancel"],
    }


def test_a_transfer_is_read_in_a_fixed_number_of_queries(
    actor, destination_staff, source, destination, django_assert_num_queries
):
    def read(transfer, user, queries):
        with django_assert_num_queries(queries):
            response = api_client(user).get(reverse("api-transfer", args=[transfer.pk]))
        assert response.status_code == 200
        return response.json()

    # the transfer with its branches and requester, its lines, its events; an ADMIN's rights
    # need no query, a member's are one
    small = sent(actor, source, destination, (ProductFactory(), 1))
    assert len(read(small, actor, 3)["lines"]) == 1
    assert len(read(small, destination_staff, 4)["lines"]) == 1

    products = ProductFactory.create_batch(15)
    for product in products:
        stocked(source, product, 5)
    large = sent(actor, source, destination, *[(p, 2) for p in products])
    services.ship_transfer(actor=AdminFactory(), transfer_id=large.pk)
    for product in products[:5]:
        services.receive_transfer(
            actor=MembershipFactory(branch=destination, role=Role.STAFF).user,
            transfer_id=large.pk,
            quantities={product.pk: 1},
        )

    body = read(large, destination_staff, 4)
    assert len(body["lines"]) == body["line_count"] == 15
    assert len(body["events"]) == 7
    assert [line["sku"] for line in body["lines"]] == sorted(p.sku for p in products)


def test_the_api_root_links_the_transfers(actor):
    links = api_client(actor).get(reverse("api-root")).json()

    assert links["transfers"].endswith(reverse("api-transfers"))
    assert links["transfer_request"].endswith(reverse("api-transfer-request"))
    assert links["transfer_send"].endswith(reverse("api-transfer-send"))


# The published schema ---------------------------------------------------------------------


@pytest.fixture
def api_schema():
    # As in the fuzzing test: the WSGI handler would otherwise close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_every_transfer_answer_keeps_to_the_schema(api_schema, actor, source, destination):
    """The fuzzer finds no transfer to act on; this walks real ones through every step."""
    first, second = ProductFactory.create_batch(2)
    stocked(source, first, 10)
    stocked(source, second, 10)
    pushed = sent(actor, source, destination, (first, 5), (second, 2))
    pulled = requested(actor, source, destination, (first, 1))
    dropped = requested(actor, source, destination, (second, 1))
    _, token = account_services.sign_in_device(user=actor, device="schema check")
    lines = [{"product": str(first.pk), "quantity": "1"}]
    calls = [
        ("/transfers/", "GET", None, None, {"branch": str(source.pk), "direction": "out"}),
        ("/transfers/{transfer_id}/", "GET", pushed, None, None),
        ("/transfers/{transfer_id}/ship/", "POST", pushed, {"note": "van"}, None),
        (
            "/transfers/{transfer_id}/receive/",
            "POST",
            pushed,
            {"quantities": {str(first.pk): 5}},
            None,
        ),
        ("/transfers/{transfer_id}/close/", "POST", pushed, {"reason": "LOST"}, None),
        ("/transfers/{transfer_id}/close/", "POST", pushed, {"reason": "LOST"}, None),
        (
            "/transfers/{transfer_id}/approve/",
            "POST",
            pulled,
            {"quantities": {str(first.pk): 2}},
            None,
        ),
        ("/transfers/{transfer_id}/cancel/", "POST", pulled, {"reason": "not needed"}, None),
        ("/transfers/{transfer_id}/reject/", "POST", dropped, {"reason": "none spare"}, None),
        (
            "/transfers/request/",
            "POST",
            None,
            {"from_branch": str(source.pk), "to_branch": str(destination.pk), "lines": lines},
            None,
        ),
        (
            "/transfers/send/",
            "POST",
            None,
            {"from_branch": str(source.pk), "to_branch": str(source.pk), "lines": lines},
            None,
        ),
    ]
    statuses = []
    for path, method, transfer, body, query in calls:
        extra = {"body": body, "media_type": "application/json"} if body is not None else {}
        case = api_schema[f"/api/v1{path}"][method].Case(
            path_parameters={"transfer_id": str(transfer.pk)} if transfer else {},
            query=query or {},
            headers={"Authorization": f"Token {token}"},
            **extra,
        )
        response = case.call()
        case.validate_response(response, checks=SCHEMA_CHECKS)
        statuses.append(response.status_code)

    assert statuses == [200, 200, 200, 200, 200, 409, 200, 200, 200, 201, 400]
