"""The workflow table: complete, obeyed by the services, and what the API offers."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import api_client
from transfers import selectors, services
from transfers.models import Transfer, TransferEvent, TransferStep
from transfers.tests.factories import requested, sent, stocked
from transfers.workflow import STEP_NAMES, STEPS

pytestmark = pytest.mark.django_db


def test_every_step_has_exactly_one_entry():
    assert list(STEPS) == list(TransferStep)
    assert all(entry.step == step for step, entry in STEPS.items())


def test_every_step_on_a_transfer_has_its_endpoint():
    assert STEP_NAMES == ("approve", "ship", "receive", "close", "cancel", "reject")
    for name in STEP_NAMES:
        assert reverse(f"api-transfer-{name}", args=["x"]).endswith(f"/{name}/")


def test_every_recorded_step_went_as_the_table_says(actor, source, destination):
    first, second = ProductFactory.create_batch(2)
    stocked(source, first, 20)
    stocked(source, second, 20)
    closed = requested(actor, source, destination, (first, 4), (second, 2))
    services.approve_transfer(actor=actor, transfer_id=closed.pk, quantities={first.pk: 3})
    services.ship_transfer(actor=actor, transfer_id=closed.pk)
    services.receive_transfer(actor=actor, transfer_id=closed.pk, quantities={first.pk: 1})
    services.close_transfer(actor=actor, transfer_id=closed.pk, reason="LOST")
    received = sent(actor, source, destination, (first, 2))
    services.ship_transfer(actor=actor, transfer_id=received.pk)
    services.receive_transfer(actor=actor, transfer_id=received.pk, quantities={first.pk: 2})
    cancelled = sent(actor, source, destination, (second, 1))
    services.cancel_transfer(actor=actor, transfer_id=cancelled.pk)
    rejected = requested(actor, source, destination, (second, 1))
    services.reject_transfer(actor=actor, transfer_id=rejected.pk, reason="none spare")

    events = list(TransferEvent.objects.all())

    assert {event.step for event in events} == set(TransferStep)
    for event in events:
        entry = STEPS[event.step]
        assert event.from_status in (entry.sources or ("",)), event
        assert event.to_status in entry.targets, event


# What the API offers is what the services accept ------------------------------------------

ROLES = ["admin", "source manager", "source staff", "destination manager", "destination staff"]
STATES = [
    "requested",
    "approved request",
    "sent",
    "in transit",
    "partly received",
    "received",
    "closed short",
    "cancelled",
]


def transfer_in(state, source, destination, product):
    """A transfer of 4 of ``product`` (the source holds 10) brought to ``state`` by an ADMIN."""
    admin = AdminFactory()
    stocked(source, product, 10)
    if state in ("requested", "approved request", "cancelled"):
        transfer = requested(admin, source, destination, (product, 4))
        if state == "approved request":
            services.approve_transfer(actor=admin, transfer_id=transfer.pk)
        if state == "cancelled":
            services.cancel_transfer(actor=admin, transfer_id=transfer.pk)
        return Transfer.objects.get(pk=transfer.pk)
    transfer = sent(admin, source, destination, (product, 4))
    if state == "sent":
        return transfer
    services.ship_transfer(actor=admin, transfer_id=transfer.pk)
    arrived = {"in transit": 0, "partly received": 1, "received": 4, "closed short": 1}[state]
    if arrived:
        services.receive_transfer(
            actor=admin, transfer_id=transfer.pk, quantities={product.pk: arrived}
        )
    if state == "closed short":
        services.close_transfer(actor=admin, transfer_id=transfer.pk, reason="DAMAGED")
    return Transfer.objects.get(pk=transfer.pk)


def person(role, source, destination):
    if role == "admin":
        return AdminFactory()
    where, title = role.split()
    branch = source if where == "source" else destination
    return MembershipFactory(branch=branch, role=Role(title.upper())).user


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_the_steps_offered_are_exactly_the_steps_accepted(role, state, source, destination):
    product = ProductFactory()
    transfer = transfer_in(state, source, destination, product)
    user = person(role, source, destination)
    bodies = {
        "receive": {"quantities": {str(product.pk): "1"}},
        "close": {"reason": "LOST"},
        "reject": {"reason": "none spare"},
    }

    offered = api_client(user).get(reverse("api-transfer", args=[transfer.pk])).json()
    accepted, refused = [], []
    for name in STEP_NAMES:
        # Each step is tried on the transfer as it is, then undone for the next one.
        with transaction.atomic():
            response = api_client(user).post(
                reverse(f"api-transfer-{name}", args=[transfer.pk]),
                bodies.get(name, {}),
                format="json",
            )
            transaction.set_rollback(True)
        if response.status_code == 200:
            accepted.append(name)
        else:
            refused.append((name, response.status_code))

    assert offered["available_steps"] == accepted
    assert all(code in (403, 409) for _, code in refused), refused
    assert selectors.available_steps(user, transfer) == accepted


@pytest.mark.parametrize(
    ("role", "state", "steps"),
    [
        ("source manager", "requested", ["approve", "cancel", "reject"]),
        ("destination manager", "requested", ["cancel"]),
        ("destination manager", "approved request", ["cancel"]),
        ("destination manager", "sent", []),
        ("source manager", "sent", ["ship", "cancel"]),
        ("destination staff", "in transit", ["receive", "close"]),
        ("source staff", "in transit", []),
        ("admin", "partly received", ["receive", "close"]),
        ("admin", "closed short", []),
    ],
)
def test_what_each_person_may_do_next(role, state, steps, source, destination):
    """Examples, so that the exhaustive test above cannot pass by offering and accepting
    nothing."""
    transfer = transfer_in(state, source, destination, ProductFactory())

    assert selectors.available_steps(person(role, source, destination), transfer) == steps


# One question to the permission module per step -------------------------------------------


@pytest.mark.parametrize(
    ("name", "role", "state"),
    [
        ("approve", "source manager", "requested"),
        ("ship", "source manager", "sent"),
        ("receive", "destination staff", "in transit"),
        ("close", "destination staff", "in transit"),
        ("cancel", "destination manager", "requested"),
        ("cancel", "source manager", "approved request"),
        ("reject", "source manager", "requested"),
    ],
)
def test_a_step_reads_the_actors_rights_once(name, role, state, source, destination):
    product = ProductFactory()
    transfer = transfer_in(state, source, destination, product)
    actor = person(role, source, destination)
    arguments = {
        "receive": {"quantities": {product.pk: 1}},
        "close": {"reason": "LOST"},
        "reject": {"reason": "none spare"},
    }
    service = getattr(services, f"{name}_transfer")

    with CaptureQueriesContext(connection) as queries:
        service(actor=actor, transfer_id=transfer.pk, **arguments.get(name, {}))

    # The locked read of the transfer also narrows by the rights, in a subquery of its own.
    apart = [
        query["sql"]
        for query in queries.captured_queries
        if "accounts_branchpermission" in query["sql"] and "transfers_transfer" not in query["sql"]
    ]
    assert len(apart) == 1, apart
    assert transfer.events.last().step == name.upper()
