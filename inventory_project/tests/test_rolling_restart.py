"""A rolling restart under load, on loopback: two gunicorn and two daphne processes, each
pair behind a small round-robin balancer that passes a refused connection to the next
server (as nginx's ``proxy_next_upstream error`` does, and nothing more: a request that
reached a server is never sent again). While clients receive and issue stock through the
API and websocket clients follow the branch, every process is stopped in turn and
replaced. Stopped gracefully (SIGTERM), no request fails, the ledger holds exactly the
movements that were answered, and every websocket client is told to reconnect (1012),
resumes and ends with the final figures, resyncing through the API as ``live.js`` does.
Killed (SIGKILL), requests fail: the graceful shutdown is what the first outcome rests on.
"""

import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
import websockets
from django.conf import settings
from django.core.management import call_command

from accounts.services import sign_in_device
from accounts.tests.factories import ManagerFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import database_url, free_port
from stock.models import StockLevel, StockMovement

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.usefixtures("postgres"),
    # Its servers hold dozens of database connections: the tests that open many at once
    # (this, the topology, the thread races) share one xdist worker, so that together they
    # stay within PostgreSQL's max_connections (100).
    pytest.mark.xdist_group("many-connections"),
]

LOAD_THREADS = 4
WEBSOCKET_CLIENTS = 10
RECEIVED, ISSUED = Decimal(3), Decimal(1)


def server_env() -> dict[str, str]:
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="inventory_project.settings",
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        # This run's events apart from any other's on the same Redis.
        CHANNEL_LAYER_PREFIX=f"rolling-{os.getpid()}",
        # The load is one user's; the throttle is not under test here.
        API_USER_RATE="",
        PYTHONUNBUFFERED="1",
    )


class Server:
    """A server process on a fixed loopback port, started again on the same port after it
    stops, as a replaced container keeps its address in the balancer."""

    def __init__(self, name: str, logs: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log = logs / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def argv(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv(),
            cwd=settings.BASE_DIR,
            env=server_env(),
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            # Its own process group: SIGKILL takes every process of it, as a container's end.
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health/live", timeout=1)
                return
            time.sleep(0.1)
        pytest.fail(f"{self.name} did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self, how: signal.Signals) -> None:
        if how == signal.SIGKILL:
            os.killpg(self.process.pid, signal.SIGKILL)
        else:
            self.process.send_signal(how)
        self.process.wait(timeout=40)

    def restart(self, how: signal.Signals) -> None:
        self.stop(how)
        self.start()
        self.wait_ready()

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


class Gunicorn(Server):
    # The compose file's command, on loopback, without the control socket two would share.
    def argv(self) -> list[str]:
        return [
            *(sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py"),
            *("--workers", "2", "--bind", f"127.0.0.1:{self.port}", "--no-control-socket"),
            "inventory_project.wsgi:application",
        ]


class Daphne(Server):
    # The compose file's command, on loopback.
    def argv(self) -> list[str]:
        return [
            *(sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)),
            *("--ping-interval", "20", "--ping-timeout", "30"),
            *("--websocket-max-message-size", "65536", "--websocket-max-frame-size", "65536"),
            *("--application-close-timeout", "10"),
            "inventory_project.asgi:application",
        ]


class Balancer:
    """Round robin over the servers' ports; a refused connection is passed to the next
    server, then bytes are piped both ways. Nothing is retried once it reached a server."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.turn = itertools.count()
        self.passed_on = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        first = next(self.turn)
        for offset in range(len(self.ports)):
            port = self.ports[(first + offset) % len(self.ports)]
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                self.passed_on += 1
        else:
            client.close()
            return
        upstream.settimeout(None)
        back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
        back.start()
        _pipe(client, upstream)
        back.join()
        client.close()
        upstream.close()

    def close(self) -> None:
        self.listener.close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        # One side was reset: the other is cut off too, as a proxy does (shut down, which
        # also wakes the thread reading the other way; closing alone would not).
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


@dataclass
class Load:
    """Receive and issue through the web balancer, a product per thread, never retried."""

    url: str
    token: str
    branch: str
    products: list[str]
    answered: dict[str, list[str]] = field(default_factory=dict)  # product -> kinds done
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self._work, args=(product,), daemon=True)
            for product in self.products
        ]
        for thread in threads:
            thread.start()
        return threads

    def _work(self, product: str) -> None:
        done = self.answered.setdefault(product, [])
        for kind in itertools.cycle(["receive", "issue"]):
            if self.stop.is_set():
                return
            quantity = RECEIVED if kind == "receive" else ISSUED
            body = {"branch": self.branch, "product": product, "quantity": str(quantity)}
            try:
                status, _ = api(self.url, f"/api/v1/movements/{kind}/", self.token, body)
            except OSError as exc:
                self.failures.append(f"{kind}: {exc!r}")
                continue
            if 200 <= status < 300:
                done.append(kind)
            else:
                self.failures.append(f"{kind}: {status}")


def api(url: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


@dataclass
class Watcher:
    """A websocket client as live.js is: reconnects (at once on 1012), and fetches the
    branch's levels again through the API after every (re)connect and every version gap."""

    web: str
    ws: str
    token: str
    branch: str
    levels: dict[str, tuple[int, str]] = field(default_factory=dict)  # id -> version, on hand
    connections: int = 0
    closes: list[int | None] = field(default_factory=list)
    resyncs_on_connect: int = 0
    resyncs_on_gap: int = 0
    last_version: int | None = None

    def apply(self, level: str, version: int, on_hand: str) -> None:
        if version > self.levels.get(level, (0, ""))[0]:
            self.levels[level] = (version, on_hand)

    async def resync(self) -> None:
        status, page = await asyncio.to_thread(
            api, self.web, f"/api/v1/stock-levels/?branch={self.branch}&page_size=100", self.token
        )
        assert status == 200, status
        for row in page["results"]:
            self.apply(row["id"], row["version"], row["on_hand"])

    async def follow(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            status, ticket = await asyncio.to_thread(
                api, self.web, "/api/v1/realtime/tickets/", self.token, {}
            )
            assert status in (200, 201), status
            async with websockets.connect(
                f"{self.ws}/ws/inventory/?ticket={ticket['ticket']}"
            ) as ws:
                assert json.loads(await ws.recv())["type"] == "welcome"
                self.connections += 1
                self.last_version = None
                await self.resync()
                self.resyncs_on_connect += 1
                if not await self._receive(ws, stop):
                    return
                self.closes.append(ws.close_code)
            if ws.close_code != 1012:
                await asyncio.sleep(0.5)  # the backoff's first step

    async def _receive(self, ws, stop: asyncio.Event) -> bool:
        """Until the server closes the socket (True) or the test ends (False)."""
        while not stop.is_set():
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 0.2))
            except TimeoutError:
                continue
            except websockets.ConnectionClosed:
                return True
            if frame["type"] != "stock.changed":
                continue
            last, self.last_version = self.last_version, frame["version"]
            if last is not None and frame["version"] > last + 1:
                await self.resync()
                self.resyncs_on_gap += 1
            data = frame["data"]
            self.apply(data["level"], data["level_version"], data["on_hand_after"])
        return False


def test_a_rolling_restart_under_load_fails_no_request_and_every_client_resumes(
    rollout, record_property
):
    outcome = rollout(signal.SIGTERM, steps=2)

    assert outcome.load.failures == [], outcome.server_errors()
    assert outcome.ticket_failures == []
    # The ledger holds exactly the answered requests, and agrees with itself.
    for product, kinds in outcome.load.answered.items():
        level = StockLevel.objects.get(branch_id=outcome.branch, product_id=product)
        movements = StockMovement.objects.filter(stock_level=level)
        assert movements.count() == len(kinds)
        expected = RECEIVED * kinds.count("receive") - ISSUED * kinds.count("issue")
        assert level.on_hand == expected
    assert sum(map(len, outcome.load.answered.values())) > 100
    call_command("verify_ledger")
    # Every client was told to reconnect, did, and ends with the final figures.
    final = {
        str(level.pk): (level.version, f"{level.on_hand:.3f}")
        for level in StockLevel.objects.filter(branch_id=outcome.branch)
    }
    for watcher in outcome.watchers:
        assert watcher.connections >= 2
        assert set(watcher.closes) == {1012}
        assert watcher.levels == final
    # The servers stopped were passed over while they did.
    assert outcome.web_passed_on > 0
    assert outcome.ws_passed_on > 0
    # Each (re)connection fetched the levels again, and so did each gap seen in between.
    record_property("answered", sum(map(len, outcome.load.answered.values())))
    record_property("reconnections", sum(w.connections - 1 for w in outcome.watchers))
    record_property("resyncs_on_gap", sum(w.resyncs_on_gap for w in outcome.watchers))
    for watcher in outcome.watchers:
        assert watcher.resyncs_on_connect == watcher.connections


def test_killed_instead_of_stopped_clients_are_cut_off_without_being_told(rollout):
    # The first pair killed; the balancers pass everything after to the second. A request
    # the killed server was serving fails too, but whether one was in flight at that instant
    # is chance, so only the websockets' side is asserted: 1006, never the 1012 of a stop.
    outcome = rollout(signal.SIGKILL, steps=1, replace=False)

    closes = {code for watcher in outcome.watchers for code in watcher.closes}
    assert 1006 in closes
    assert 1012 not in closes
    # Still consistent: a request is one transaction, whether its answer arrived or not.
    call_command("verify_ledger")


@dataclass
class Outcome:
    branch: str
    load: Load
    watchers: list[Watcher]
    ticket_failures: list[str]
    web_passed_on: int
    ws_passed_on: int
    logs: list[Path] = field(default_factory=list)

    def server_errors(self) -> str:
        """The servers' tracebacks, for a failure's message: what answered 500 and why."""
        found = []
        for log in self.logs:
            text = log.read_text(errors="replace") if log.exists() else ""
            if "Traceback" in text:
                found.append(f"--- {log.name} ---\n{text[text.index('Traceback') :][-3000:]}")
        return "\n".join(found) or "(no traceback in the servers' logs)"


@pytest.fixture
def rollout(tmp_path):
    servers: list[Server] = []
    balancers: list[Balancer] = []

    def run(how: signal.Signals, *, steps: int, replace: bool = True) -> Outcome:
        """Serve the load and the clients while, ``steps`` times, a web and a websocket
        server are stopped together (``how``) and replaced, as the two Deployments roll."""
        branch = BranchFactory()
        manager = ManagerFactory(branch=branch).user
        _, token = sign_in_device(user=manager, device="rolling-restart")
        products = [str(ProductFactory().pk) for _ in range(LOAD_THREADS)]

        webs = [Gunicorn(f"web-{n}", tmp_path) for n in (1, 2)]
        sockets = [Daphne(f"ws-{n}", tmp_path) for n in (1, 2)]
        servers.extend([*webs, *sockets])
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
        web = Balancer([server.port for server in webs])
        ws = Balancer([server.port for server in sockets])
        balancers.extend([web, ws])
        web_url, ws_url = f"http://127.0.0.1:{web.port}", f"ws://127.0.0.1:{ws.port}"

        watchers = [
            Watcher(web_url, ws_url, token, str(branch.pk)) for _ in range(WEBSOCKET_CLIENTS)
        ]
        ticket_failures: list[str] = []
        stop = threading.Event()

        def follow_all() -> None:
            async def main() -> None:
                done = asyncio.Event()

                async def watch(watcher: Watcher) -> None:
                    while not done.is_set():
                        try:
                            await watcher.follow(done)
                        except (OSError, AssertionError, websockets.WebSocketException) as exc:
                            ticket_failures.append(repr(exc))
                            if how == signal.SIGTERM:
                                return
                            await asyncio.sleep(0.5)

                tasks = [asyncio.create_task(watch(watcher)) for watcher in watchers]
                while not stop.is_set():
                    await asyncio.sleep(0.1)
                done.set()
                await asyncio.gather(*tasks)

            asyncio.run(main())

        following = threading.Thread(target=follow_all, daemon=True)
        following.start()
        load = Load(web_url, token, str(branch.pk), products)
        workers = load.run()
        time.sleep(2)
        for pair in list(zip(webs, sockets, strict=True))[:steps]:
            action = Server.restart if replace else Server.stop
            restarts = [threading.Thread(target=action, args=(server, how)) for server in pair]
            for restart in restarts:
                restart.start()
            for restart in restarts:
                restart.join()
            time.sleep(0.5)
        load.stop.set()
        for worker in workers:
            worker.join(timeout=30)
        time.sleep(1.5)  # the last events reach every client
        stop.set()
        following.join(timeout=30)
        return Outcome(
            str(branch.pk),
            load,
            watchers,
            ticket_failures,
            web.passed_on,
            ws.passed_on,
            [server.log for server in servers],
        )

    yield run
    for balancer in balancers:
        balancer.close()
    for server in servers:
        server.close()


def test_a_stopping_daphne_closes_its_sockets_with_1012_and_refuses_new_ones(tmp_path, branch):
    manager = ManagerFactory(branch=branch).user
    _, token = sign_in_device(user=manager, device="rolling-restart")
    server = Daphne("ws", tmp_path)
    server.start()
    try:
        server.wait_ready()
        url = f"http://127.0.0.1:{server.port}"

        async def scenario() -> int | None:
            _, ticket = await asyncio.to_thread(api, url, "/api/v1/realtime/tickets/", token, {})
            address = f"ws://127.0.0.1:{server.port}/ws/inventory/?ticket={ticket['ticket']}"
            async with websockets.connect(address) as ws:
                assert json.loads(await ws.recv())["type"] == "welcome"
                server.process.send_signal(signal.SIGTERM)
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 10)
                with pytest.raises(ConnectionRefusedError):
                    await asyncio.to_thread(socket.create_connection, ("127.0.0.1", server.port), 1)
                return ws.close_code

        assert asyncio.run(scenario()) == 1012
        assert server.process.wait(timeout=15) == 0
    finally:
        server.close()
