"""The live-update websocket, driven through channels' WebsocketCommunicator against the
real channel layer (Redis) and the real database."""

import asyncio
import json
from contextlib import asynccontextmanager

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client
from django.urls import reverse

from accounts import services as accounts
from accounts.models import Role
from accounts.tests.factories import AdminFactory, ManagerFactory, MembershipFactory
from alerts import services as alerts
from alerts.models import LowStockAlert
from branches.tests.factories import BranchFactory
from catalog import services as catalog
from catalog.tests.factories import ProductFactory
from inventory_project.asgi import application
from inventory_project.kernel import realtime
from inventory_project.kernel.consumers import (
    ACCESS_REVOKED,
    MAX_FRAME_CHARACTERS,
    NOT_AUTHENTICATED,
)
from inventory_project.tests.helpers import api_client
from stock import services as stock
from transfers import services as transfers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
QUIET = 0.3  # seconds a socket must stay silent to count as receiving nothing


def session_cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


@asynccontextmanager
async def socket(user=None, *, headers=None, path="/ws/inventory/"):
    """A connected socket, its welcome frame read; signed in with ``user``'s session."""
    if headers is None:
        headers = [ORIGIN, *([await sync_to_async(session_cookie)(user)] if user else [])]
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    try:
        yield communicator
    finally:
        await communicator.disconnect()


async def frame(communicator, timeout: float = 3) -> dict:
    return json.loads(await communicator.receive_from(timeout))


async def events(communicator, count: int) -> list[dict]:
    return [await frame(communicator) for _ in range(count)]


async def silent(communicator) -> bool:
    return await communicator.receive_nothing(QUIET)


def run(coroutine_function):
    return async_to_sync(coroutine_function)()


in_db = sync_to_async


def receive(actor, branch, product, quantity):
    return stock.receive_stock(
        actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity
    )


def issue(actor, branch, product, quantity):
    return stock.issue_stock(
        actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity
    )


@pytest.fixture
def manager(branch):
    return ManagerFactory(branch=branch).user


# Signing in -------------------------------------------------------------------------------


def test_a_manager_is_welcomed_following_their_branch(manager, branch):
    BranchFactory()  # not theirs

    async def scenario():
        async with socket(manager) as ws:
            welcome = await frame(ws)
            assert welcome["type"] == "welcome"
            assert welcome["user"] == str(manager.pk)
            assert welcome["branches"] == [str(branch.pk)]

    run(scenario)


def test_an_admin_follows_every_branch(branch):
    admin, other = AdminFactory(), BranchFactory()

    async def scenario():
        async with socket(admin) as ws:
            assert set((await frame(ws))["branches"]) == {str(branch.pk), str(other.pk)}

    run(scenario)


def test_an_anonymous_socket_is_told_and_closed():
    async def scenario():
        async with socket(headers=[ORIGIN]) as ws:
            error = await frame(ws)
            assert error["code"] == "not_authenticated"
            assert (await ws.receive_output(3))["code"] == NOT_AUTHENTICATED

    run(scenario)


def test_a_page_of_another_origin_cannot_open_the_socket(manager):
    cookie = session_cookie(manager)

    async def scenario():
        communicator = WebsocketCommunicator(
            application, "/ws/inventory/", headers=[(b"origin", b"https://evil.example"), cookie]
        )
        connected, _ = await communicator.connect()
        assert not connected

    run(scenario)


def test_without_an_origin_a_session_cookie_opens_nothing(manager):
    cookie = session_cookie(manager)

    async def scenario():
        async with socket(headers=[cookie]) as ws:
            assert (await frame(ws))["code"] == "not_authenticated"

    run(scenario)


def ticket_for(user) -> str:
    response = api_client(user).post(reverse("api-realtime-ticket"))
    assert response.status_code == 201
    return response.json()["ticket"]


def test_a_ticket_from_the_api_opens_one_socket_once(manager, branch):
    ticket = ticket_for(manager)

    async def scenario():
        async with socket(headers=[], path=f"/ws/inventory/?ticket={ticket}") as ws:
            assert (await frame(ws))["branches"] == [str(branch.pk)]
        async with socket(headers=[], path=f"/ws/inventory/?ticket={ticket}") as again:
            assert (await frame(again))["code"] == "not_authenticated"

    run(scenario)


def test_an_expired_ticket_opens_nothing(manager, settings):
    settings.WS_TICKET_SECONDS = 1
    ticket = ticket_for(manager)

    async def scenario():
        await asyncio.sleep(1.5)
        async with socket(headers=[], path=f"/ws/inventory/?ticket={ticket}") as ws:
            assert (await frame(ws))["code"] == "not_authenticated"

    run(scenario)


def test_a_deactivated_users_ticket_opens_nothing(manager):
    ticket = ticket_for(manager)
    manager.is_active = False
    manager.save()

    async def scenario():
        async with socket(headers=[], path=f"/ws/inventory/?ticket={ticket}") as ws:
            assert (await frame(ws))["code"] == "not_authenticated"

    run(scenario)


def test_tickets_are_kept_only_as_digests(manager):
    from django.core.cache import cache

    ticket = ticket_for(manager)

    assert realtime.redeem_ticket(ticket) == str(manager.pk)
    assert cache.get(f"realtime:ticket:{ticket}") is None


def test_a_ticket_needs_an_authenticated_caller():
    response = api_client().post(reverse("api-realtime-ticket"))

    assert response.status_code == 401


# Events -----------------------------------------------------------------------------------


def test_a_receipt_reaches_the_branch_as_stock_changed_and_nowhere_else(manager, branch, product):
    admin = AdminFactory()
    outsider = ManagerFactory(branch=BranchFactory()).user

    async def scenario():
        async with socket(manager) as ws, socket(outsider) as elsewhere:
            await frame(ws), await frame(elsewhere)
            movement = await in_db(receive)(admin, branch, product, 12)

            event = await frame(ws)
            assert set(event) == {"type", "branch", "version", "data", "at"}
            assert event["type"] == "stock.changed"
            assert event["branch"] == str(branch.pk)
            assert event["data"] == {
                "level": str(movement.stock_level_id),
                "level_version": 1,
                "product": str(product.pk),
                "sku": product.sku,
                "name": product.name,
                "unit": product.unit,
                "kind": "RECEIPT",
                "delta": "12.000",
                "on_hand_before": "0.000",
                "on_hand_after": "12.000",
                "movement": str(movement.pk),
                "actor": {"id": str(admin.pk), "name": str(admin)},
            }
            assert await silent(elsewhere)

    run(scenario)


def test_each_event_of_a_branch_is_numbered_one_more_than_the_last(manager, branch, product):
    async def scenario():
        async with socket(manager) as ws:
            await frame(ws)
            for quantity in (1, 2, 3):
                await in_db(receive)(manager, branch, product, quantity)
            first, second, third = await events(ws, 3)
            assert [second["version"], third["version"]] == [
                first["version"] + 1,
                first["version"] + 2,
            ]

    run(scenario)


def test_a_batch_arrives_as_one_event_per_line_in_order(manager, branch):
    products = ProductFactory.create_batch(3)

    async def scenario():
        async with socket(manager) as ws:
            await frame(ws)
            await in_db(stock.record_stock_batch)(
                actor=manager,
                branch_id=branch.pk,
                kind="RECEIPT",
                lines=[stock.MovementLine(product_id=p.pk, quantity=5) for p in products],
            )
            received = await events(ws, 3)
            assert [e["data"]["sku"] for e in received] == [p.sku for p in products]

    run(scenario)


def test_a_rolled_back_write_sends_nothing(manager, branch, product):
    def receive_then_fail():
        with transaction.atomic():
            receive(manager, branch, product, 5)
            raise RuntimeError("a later step failed")

    async def scenario():
        async with socket(manager) as ws:
            await frame(ws)
            with pytest.raises(RuntimeError):
                await in_db(receive_then_fail)()
            assert await silent(ws)

    run(scenario)


def test_alerts_are_announced_raised_acknowledged_and_resolved(manager, branch, product):
    receive(manager, branch, product, 12)

    async def scenario():
        async with socket(manager) as ws:
            await frame(ws)
            await in_db(issue)(manager, branch, product, 5)
            changed, raised = await events(ws, 2)
            assert changed["type"] == "stock.changed"
            assert raised["type"] == "alert.raised"
            assert raised["data"]["sku"] == product.sku
            assert raised["data"]["on_hand_at_trigger"] == "7.000"

            alert = await in_db(LowStockAlert.objects.get)()
            await in_db(alerts.acknowledge_alert)(actor=manager, alert_id=alert.pk, note="On it")
            acknowledged = await frame(ws)
            assert acknowledged["type"] == "alert.acknowledged"
            assert acknowledged["data"]["note"] == "On it"

            await in_db(receive)(manager, branch, product, 10)
            _, resolved = await events(ws, 2)
            assert resolved["type"] == "alert.resolved"
            assert resolved["data"]["status"] == "RESOLVED"

    run(scenario)


def test_a_transfer_step_reaches_both_branches(manager, branch, product):
    receive(manager, branch, product, 10)
    destination = BranchFactory()
    receiver = ManagerFactory(branch=destination).user

    async def scenario():
        async with socket(manager) as source_ws, socket(receiver) as destination_ws:
            await frame(source_ws), await frame(destination_ws)
            transfer = await in_db(transfers.send_transfer)(
                actor=manager,
                from_branch_id=branch.pk,
                to_branch_id=destination.pk,
                items=[transfers.TransferItem(product_id=product.pk, quantity=4)],
            )
            at_source, at_destination = await frame(source_ws), await frame(destination_ws)
            for event, where in ((at_source, branch), (at_destination, destination)):
                assert event["type"] == "transfer.updated"
                assert event["branch"] == str(where.pk)
                assert event["data"]["reference"] == transfer.reference
                assert event["data"]["status"] == "APPROVED"

    run(scenario)


def test_a_product_change_reaches_every_connection(manager, product, actor):
    outsider = ManagerFactory(branch=BranchFactory()).user

    async def scenario():
        async with socket(manager) as ws, socket(outsider) as elsewhere:
            await frame(ws), await frame(elsewhere)
            await in_db(catalog.update_product)(actor=actor, product_id=product.pk, name="Renamed")
            for event in (await frame(ws), await frame(elsewhere)):
                assert event["type"] == "product.changed"
                assert event["branch"] is None
                assert event["data"]["name"] == "Renamed"
                assert event["data"]["changed"] == ["name"]

    run(scenario)


# Client messages --------------------------------------------------------------------------


def test_a_ping_is_answered(manager):
    async def scenario():
        async with socket(manager) as ws:
            await frame(ws)
            await ws.send_to(text_data=json.dumps({"type": "ping"}))
            assert (await frame(ws))["type"] == "pong"

    run(scenario)


def test_unsubscribing_stops_a_branchs_events_and_subscribing_brings_them_back(
    manager, branch, product
):
    async def scenario():
        async with socket(manager) as ws:
            await frame(ws)
            await ws.send_to(
                text_data=json.dumps({"type": "unsubscribe", "branches": [str(branch.pk)]})
            )
            assert (await frame(ws)) == {"type": "subscribed", "branches": []}
            await in_db(receive)(manager, branch, product, 1)
            assert await silent(ws)

            await ws.send_to(
                text_data=json.dumps({"type": "subscribe", "branches": [str(branch.pk)]})
            )
            assert (await frame(ws))["branches"] == [str(branch.pk)]
            await in_db(receive)(manager, branch, product, 1)
            assert (await frame(ws))["type"] == "stock.changed"

    run(scenario)


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("not json", "not_json"),
        ("[1, 2]", "invalid"),
        ('{"kind": "ping"}', "invalid"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"type": "subscribe"}', "invalid"),
        ('{"type": "subscribe", "branches": ["not-a-uuid"]}', "not_found"),
        ("x" * (MAX_FRAME_CHARACTERS + 1), "too_large"),
        (b"\x00\x01", "not_text"),
    ],
)
def test_a_bad_message_gets_an_error_frame_and_the_socket_stays_open(manager, message, code):
    async def scenario():
        async with socket(manager) as ws:
            await frame(ws)
            if isinstance(message, bytes):
                await ws.send_to(bytes_data=message)
            else:
                await ws.send_to(text_data=message)
            error = await frame(ws)
            assert error["type"] == "error"
            assert error["code"] == code
            await ws.send_to(text_data=json.dumps({"type": "ping"}))
            assert (await frame(ws))["type"] == "pong"

    run(scenario)


def test_subscribing_to_a_branch_one_may_not_view_is_refused_and_changes_nothing(
    manager, branch, product
):
    hidden, admin = BranchFactory(), AdminFactory()

    async def scenario():
        async with socket(manager) as ws:
            await frame(ws)
            await ws.send_to(
                text_data=json.dumps(
                    {"type": "subscribe", "branches": [str(branch.pk), str(hidden.pk)]}
                )
            )
            error = await frame(ws)
            assert error["code"] == "not_found"
            assert str(hidden.pk) in error["message"]
            await in_db(receive)(admin, hidden, product, 1)
            assert await silent(ws)

    run(scenario)


# Rights that change while connected -------------------------------------------------------


def test_a_role_given_while_connected_starts_that_branchs_events(manager, branch, product):
    other, admin = BranchFactory(), AdminFactory()

    async def scenario():
        async with socket(manager) as ws:
            await frame(ws)
            await in_db(MembershipFactory)(user=manager, branch=other, role=Role.STAFF)
            following = await frame(ws)
            assert set(following["branches"]) == {str(branch.pk), str(other.pk)}
            await in_db(receive)(admin, other, product, 1)
            assert (await frame(ws))["branch"] == str(other.pk)

    run(scenario)


def test_a_role_taken_away_while_connected_stops_that_branchs_events(branch, product):
    admin = AdminFactory()
    membership = MembershipFactory(branch=branch, role=Role.STAFF)

    async def scenario():
        async with socket(membership.user) as ws:
            await frame(ws)
            await in_db(accounts.remove_membership)(actor=admin, membership_id=membership.pk)
            assert (await frame(ws)) == {"type": "subscribed", "branches": []}
            await in_db(receive)(admin, branch, product, 1)
            assert await silent(ws)

    run(scenario)


def test_deactivation_closes_the_users_open_sockets(manager):
    admin = AdminFactory()

    async def scenario():
        async with socket(manager) as ws:
            await frame(ws)
            await in_db(accounts.deactivate_user)(actor=admin, user_id=manager.pk)
            assert (await frame(ws))["code"] == "access_revoked"
            assert (await ws.receive_output(3))["code"] == ACCESS_REVOKED

    run(scenario)


# Metrics ----------------------------------------------------------------------------------


def test_open_connections_and_events_sent_are_counted(manager, branch, product):
    def sample(name, **labels):
        from prometheus_client import REGISTRY

        return REGISTRY.get_sample_value(name, labels) or 0

    async def scenario():
        before = sample("inventory_websocket_connections")
        sent = sample("inventory_websocket_events_sent_total", type="stock.changed")
        async with socket(manager) as ws:
            await frame(ws)
            assert sample("inventory_websocket_connections") == before + 1
            await in_db(receive)(manager, branch, product, 1)
            await frame(ws)
            assert sample("inventory_websocket_events_sent_total", type="stock.changed") == sent + 1
        assert sample("inventory_websocket_connections") == before

    run(scenario)
