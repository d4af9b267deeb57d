"""Many sockets of one process, fed by the Redis layer from one task: every socket gets each
event's frame as written once, in order, and a closed socket leaves nothing behind."""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from accounts.tests.factories import ManagerFactory
from inventory_project.asgi import application
from inventory_project.kernel import realtime

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres"),
    pytest.mark.synthetic_events,
    pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis layer's fan-out"),
]

SOCKETS = 30


def session_headers(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    return [
        (b"origin", b"http://127.0.0.1:8000"),
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
    ]


def test_every_socket_gets_each_events_frame_in_order_and_a_closed_one_is_forgotten(branch):
    headers = session_headers(ManagerFactory(branch=branch).user)
    events = [realtime.event("stock.changed", branch.pk, {"n": n}) for n in range(3)]

    async def scenario():
        sockets = [
            WebsocketCommunicator(application, "/ws/inventory/", headers=headers)
            for _ in range(SOCKETS)
        ]
        for ws in sockets:
            assert (await ws.connect())[0]
            assert json.loads(await ws.receive_from(3))["type"] == "welcome"
        layer = get_channel_layer()._get_layer()
        assert len(layer.listeners) == SOCKETS

        await sync_to_async(realtime.publish_after_commit)(*events)
        frames = [[await ws.receive_from(3) for _ in events] for ws in sockets]

        for ws in sockets:
            await ws.disconnect()
        await asyncio.sleep(0)
        return frames, layer.listeners

    frames, listeners = async_to_sync(scenario)()

    texts = [json.dumps({**event, "version": n + 1}) for n, event in enumerate(events)]
    assert frames == [texts] * SOCKETS
    assert listeners == {}


def test_a_socket_that_unsubscribed_gets_no_more_of_that_branchs_events(branch):
    headers = session_headers(ManagerFactory(branch=branch).user)

    async def scenario():
        ws = WebsocketCommunicator(application, "/ws/inventory/", headers=headers)
        await ws.connect()
        await ws.receive_from(3)
        await ws.send_to(json.dumps({"type": "unsubscribe", "branches": [str(branch.pk)]}))
        assert json.loads(await ws.receive_from(3))["branches"] == []
        await sync_to_async(realtime.publish_after_commit)(
            realtime.event("stock.changed", branch.pk, {"n": 1}),
            realtime.event("product.changed", None, {"n": 2}),
        )
        frame = json.loads(await ws.receive_from(3))
        silent = await ws.receive_nothing(0.3)
        await ws.disconnect()
        return frame, silent

    frame, silent = async_to_sync(scenario)()

    assert (frame["type"], frame["data"]) == ("product.changed", {"n": 2})
    assert silent
