"""End to end: two daphne processes on loopback share the local Redis; a change made through
one reaches the websocket clients of both, and no one of another branch."""

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import websockets
from django.conf import settings

from accounts.models import Role
from accounts.services import sign_in_device
from accounts.tests.factories import ManagerFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from inventory_project.tests.helpers import database_url, free_port

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.usefixtures("postgres"),
]


class Daphne:
    """``daphne`` serving the app on a loopback port of its own."""

    def __init__(self, log: Path) -> None:
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
