"""End to end: two daphne processes on loopback share the local Redis; a change made through
one reaches the websocket clients of both, and no one of another branch."""

import asyncio
import io
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import websockets
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from django.core.management import call_command

from accounts.models import Role
from accounts.services import sign_in_device
from accounts.tests.factories import ManagerFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from inventory_project.kernel import realtime
from inventory_project.tests.helpers import database_url, free_port

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.usefixtures("postgres"),
]


class Daphne:
    """``daphne`` serving the app on a loopback port of its own."""

    def __init__(self, log: Path, *options: str) -> None:
        self.port = free_port()
        self.log = log
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="inventory_project.settings",
            DATABASE_URL=database_url(),
            REDIS_URL=settings.REDIS_URL,
            PYTHONUNBUFFERED="1",
        )
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)),
                *options,
                "inventory_project.asgi:application",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        self._wait_until_up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"daphne exited:\n{self.log.read_text()}")
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"daphne did not start:\n{self.log.read_text()}")

    def post(self, path: str, body: dict, token: str | None = None) -> dict:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Token {token}"} if token else {}),
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def socket_url(self, token: str) -> str:
        ticket = self.post("/api/v1/realtime/tickets/", {}, token)["ticket"]
        return f"ws://127.0.0.1:{self.port}/ws/inventory/?ticket={ticket}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def token_for(user) -> str:
    """A device token, as signing in through the API gives one."""
    _, key = sign_in_device(user=user, device="e2e")
    return key


@pytest.fixture
def two_servers(tmp_path):
    servers = [Daphne(tmp_path / "daphne-a.log"), Daphne(tmp_path / "daphne-b.log")]
    yield servers
    for server in servers:
        server.stop()


def test_a_change_through_one_server_reaches_the_clients_of_both_and_no_one_else(
    two_servers, branch, product
):
    first, second = two_servers
    manager = ManagerFactory(branch=branch).user
    staff = MembershipFactory(branch=branch, role=Role.STAFF).user
    outsider = ManagerFactory(branch=BranchFactory()).user
    manager_token = token_for(manager)
    urls = {
        "manager on the first server": first.socket_url(manager_token),
        "staff on the second server": second.socket_url(token_for(staff)),
        "another branch on the second server": second.socket_url(token_for(outsider)),
    }

    async def scenario() -> dict[str, list[dict]]:
        sockets = {who: await websockets.connect(url) for who, url in urls.items()}
        try:
            for ws in sockets.values():
                assert json.loads(await ws.recv())["type"] == "welcome"
            body = {"branch": str(branch.pk), "product": str(product.pk), "quantity": "7"}
            await asyncio.to_thread(first.post, "/api/v1/movements/receive/", body, manager_token)
            return {who: await _frames(ws, quiet=1.0) for who, ws in sockets.items()}
        finally:
            for ws in sockets.values():
                await ws.close()

    received = asyncio.run(scenario())

    [on_first] = received["manager on the first server"]
    [on_second] = received["staff on the second server"]
    assert on_first == on_second
    assert on_first["type"] == "stock.changed"
    assert on_first["branch"] == str(branch.pk)
    assert on_first["data"]["on_hand_after"] == "7.000"
    assert received["another branch on the second server"] == []


async def _frames(ws, *, quiet: float) -> list[dict]:
    """Every frame until the socket has been quiet for ``quiet`` seconds."""
    frames = []
    while True:
        try:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), quiet)))
        except TimeoutError:
            return frames


# What a production server runs with (docker-compose.yml), with the pings quicker.
GUARDED = (
    *("--ping-interval", "1", "--ping-timeout", "2"),
    *("--websocket-max-message-size", "65536", "--websocket-max-frame-size", "65536"),
)


@pytest.fixture
def guarded_server(tmp_path):
    server = Daphne(tmp_path / "daphne.log", *GUARDED)
    yield server
    server.stop()


def test_an_oversized_frame_closes_that_socket_and_the_server_serves_on(guarded_server, branch):
    manager = ManagerFactory(branch=branch).user
    token = token_for(manager)
    oversized, other = guarded_server.socket_url(token), guarded_server.socket_url(token)

    async def scenario():
        async with websockets.connect(oversized) as ws, websockets.connect(other) as bystander:
            await ws.recv(), await bystander.recv()
            await ws.send("x" * 100_000)
            assert await closed_by_server(ws)
            await bystander.send(json.dumps({"type": "ping"}))
            assert json.loads(await bystander.recv())["type"] == "pong"

    asyncio.run(scenario())


@pytest.mark.synthetic_events
def test_a_client_that_never_reads_is_dropped_and_the_others_keep_their_events(
    guarded_server, branch
):
    manager = ManagerFactory(branch=branch).user
    token = token_for(manager)
    never_reads, reader = guarded_server.socket_url(token), guarded_server.socket_url(token)
    # The servers' layer, as configured, but for this process's private prefix.
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    layer = RedisPubSubChannelLayer(**{**config, "prefix": settings.CHANNEL_LAYER_PREFIX})
    group = realtime.branch_group(branch.pk)
    bulky = realtime.event("stock.changed", branch.pk, {"padding": "x" * 20_000})
    probe = realtime.event("stock.changed", branch.pk, {"probe": True})

    async def read_until_probe(ws) -> int:
        count = 0
        while json.loads(await ws.recv()).get("data") != {"probe": True}:
            count += 1
        return count

    async def scenario():
        # A client whose queue holds one frame stops reading its socket, and so its pongs.
        async with (
            websockets.connect(never_reads, max_queue=1) as stuck,
            websockets.connect(reader) as ws,
        ):
            await ws.recv()
            reading = asyncio.create_task(read_until_probe(ws))
            for _ in range(300):
                await layer.group_send(group, realtime.event_message(bulky))
            await asyncio.sleep(5)  # past the ping interval and timeout
            await layer.group_send(group, realtime.event_message(probe))
            assert await asyncio.wait_for(reading, 20) == 300
            assert await closed_by_server(stuck)

    asyncio.run(scenario())


async def closed_by_server(ws, timeout: float = 10) -> bool:
    """Read whatever the socket still holds; True once it turns out closed."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except websockets.ConnectionClosed:
        return True
    except TimeoutError:
        return False


@pytest.fixture
def servers_channel_layer():
    """This process publishes on the servers' layer, not on its private one (conftest)."""
    from channels.layers import channel_layers

    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    private = config["prefix"]
    config["prefix"] = settings.CHANNEL_LAYER_PREFIX
    channel_layers.backends.clear()
    yield
    config["prefix"] = private
    channel_layers.backends.clear()


@pytest.mark.usefixtures("servers_channel_layer")
def test_the_latency_benchmark_reports_every_delivery(tmp_path):
    server = Daphne(tmp_path / "daphne.log")
    output = io.StringIO()
    try:
        call_command(
            "bench_realtime",
            url=f"ws://127.0.0.1:{server.port}",
            clients=5,
            events=3,
            interval=0,
            stdout=output,
        )
    finally:
        server.stop()

    report = output.getvalue()
    assert "5 clients connected" in report
    assert "15 of 15 deliveries (100.0 %)" in report
    assert "commit-to-client latency: p50" in report
