"""Redis stopped and started again (a Redis of the test's own, never the shared one): sign-in,
lists and stock writes keep answering, readiness says what is down, and websockets open
again on the first try once Redis is back."""

import asyncio
import json
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websockets
from channels.layers import channel_layers
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, ManagerFactory
from alerts.models import LowStockAlert, MailStatus
from catalog.tests.factories import ProductFactory
from inventory_project import views
from inventory_project.kernel import outage, throttling
from inventory_project.tests.helpers import api_client, database_url, free_port
from inventory_project.tests.redis_server import PrivateRedis
from stock.models import StockMovement


@pytest.fixture
def redis(tmp_path):
    server = PrivateRedis(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def on_private_redis(settings, redis, monkeypatch):
    """This process's cache, channel layer and health check on the private Redis, with
    request rates counted (so that every request asks Redis)."""
    settings.REDIS_URL = redis.url
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": redis.url, "KEY_PREFIX": "t"}
    }
    layer = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {
        "default": {**layer, "CONFIG": {**layer["CONFIG"], "hosts": [redis.url]}}
    }
    settings.API_THROTTLE_RATES = {"user": "1000/min", "anon": "1000/min"}
    monkeypatch.setattr(throttling, "_shared_down_until", 0.0)
    monkeypatch.setattr(outage, "_last_warned", {})
    channel_layers.backends.clear()
    yield redis
    channel_layers.backends.clear()


pytestmark = pytest.mark.skipif(
    not settings.REDIS_URL, reason="runs with REDIS_URL set, as in production"
)


# In this process ----------------------------------------------------------------------


def levels(user):
    return api_client(user).get(reverse("api-stock-levels"))


@pytest.mark.django_db
def test_sign_in_lists_and_writes_answer_while_redis_is_down(on_private_redis, branch, product):
    user = ManagerFactory(branch=branch).user
    on_private_redis.stop()

    signed_in = APIClient().post(
        reverse("api-token-login"),
        {"email": user.email, "password": PASSWORD, "device": "scanner"},
        format="json",
    )
    client = APIClient(headers={"Authorization": f"Token {signed_in.json()['token']}"})
    body = {"branch": str(branch.pk), "product": str(product.pk), "quantity": "3"}
    written = client.post(reverse("api-stock-receive"), body, format="json")
    listed = client.get(reverse("api-stock-levels"))

    assert signed_in.status_code == 201
    assert written.status_code == 201
    assert listed.status_code == 200
    assert listed.json()["count"] == 1


@pytest.mark.django_db
def test_the_sign_in_page_works_while_redis_is_down(on_private_redis, client, branch):
    user = ManagerFactory(branch=branch).user
    on_private_redis.stop()

    page = client.get(reverse("login"))
    signed_in = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})

    assert page.status_code == 200
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_rates_are_counted_per_process_while_redis_is_down(
    on_private_redis, settings, actor, caplog
):
    settings.API_THROTTLE_RATES = {"user": "2/min", "anon": None}
    on_private_redis.stop()

    with caplog.at_level(logging.WARNING, logger="inventory_project.kernel.throttling"):
        answers = [levels(actor).status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    warnings = [r.getMessage() for r in caplog.records if r.name == throttling.logger.name]
    assert len(warnings) == 1
    assert "counted per process" in warnings[0]


@pytest.mark.django_db
def test_the_shared_count_is_used_again_once_redis_is_back(on_private_redis, settings, actor):
    settings.API_THROTTLE_RATES = {"user": "1/min", "anon": None}
    on_private_redis.stop()
    levels(actor)
    on_private_redis.start()
    throttling._shared_down_until = 0.0  # the retry delay, passed

    # The request counted in this process alone is not held against the shared count.
    answers = [levels(actor).status_code for _ in range(2)]

    assert answers == [200, 429]


@pytest.mark.django_db
def test_a_websocket_ticket_while_redis_is_down_is_unavailable(on_private_redis, actor):
    on_private_redis.stop()

    response = api_client(actor).post(reverse("api-realtime-ticket"))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "code": "unavailable",
        "message": "A service this needs is not answering; try again in a few seconds.",
        "fields": {},
    }


@pytest.mark.django_db
def test_a_write_while_redis_is_down_commits_and_skips_its_events_in_one_log_line(
    on_private_redis, actor, branch, django_capture_on_commit_callbacks, caplog
):
    on_private_redis.stop()
    lines = [{"product": str(ProductFactory().pk), "quantity": "3"} for _ in range(3)]
    body = {"kind": "RECEIPT", "branch": str(branch.pk), "lines": lines}

    with (
        caplog.at_level(logging.INFO, logger="inventory_project.kernel.realtime"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api_client(actor).post(reverse("api-stock-batch"), body, format="json")

    assert response.status_code == 201
    assert StockMovement.objects.count() == 3
    # Not one per event: the events of the transaction are skipped together.
    logged = [r for r in caplog.records if r.name == "inventory_project.kernel.realtime"]
    assert [(r.levelname, r.exc_info) for r in logged] == [("WARNING", None)]
    assert "Redis is unreachable" in logged[0].getMessage()


@pytest.mark.django_db
def test_readiness_says_redis_is_down_then_up(on_private_redis, client):
    up = client.get("/health/ready")
    on_private_redis.stop()
    down = client.get("/health/ready")
    liveness = client.get("/healthz")
    on_private_redis.start()
    again = client.get("/health/ready")

    # The app still serves without Redis: degraded, not taken out of rotation or restarted.
    assert (up.status_code, down.status_code, again.status_code) == (200, 200, 200)
    assert up.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "redis": "ok"},
    }
    assert down.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "migrations": "ok", "redis": "down"},
    }
    assert (liveness.status_code, liveness.json()) == (200, {"status": "ok"})
    assert again.json() == up.json()


def test_probes_give_up_on_a_silent_redis_within_their_own_timeout(settings):
    client = views._redis(settings.REDIS_URL or "redis://127.0.0.1:6379/0")
    options = client.connection_pool.connection_kwargs

    assert (options["socket_connect_timeout"], options["socket_timeout"]) == (0.5, 0.5)


# A real daphne on the private Redis ------------------------------------------------------


class Daphne:
    """``daphne`` serving the app on a loopback port, with Redis (cache, channel layer and
    Celery broker) at ``redis_url``."""

    def __init__(self, log: Path, redis_url: str) -> None:
        self.port = free_port()
        self.log = log
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="inventory_project.settings",
            DATABASE_URL=database_url(),
            REDIS_URL=redis_url,
            PYTHONUNBUFFERED="1",
        )
        env.pop("CELERY_BROKER_URL", None)
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
        deadline = time.monotonic() + 30
        while self.get("/health/ready")[0] != 200:
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"daphne did not start:\n{log.read_text()}")
            time.sleep(0.1)

    def request(self, method: str, path: str, body=None, token=None) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Token {token}"} if token else {}),
            },
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")
        except OSError:
            return 0, {}

    def get(self, path: str, token=None) -> tuple[int, dict]:
        return self.request("GET", path, token=token)

    def sign_in(self, user) -> str:
        # The server hashes as in production, not with the tests' fast hasher.
        user.password = PBKDF2PasswordHasher().encode(PASSWORD, "outage-salt", iterations=1000)
        user.save(update_fields=["password"])
        body = {"email": user.email, "password": PASSWORD, "device": "outage"}
        status, answer = self.request("POST", "/api/v1/auth/token/", body)
        assert status == 201, answer
        return answer["token"]

    def first_frames(self, token: str) -> tuple[list[dict], int | None]:
        """Open the websocket with a fresh ticket: its first frame, and the close code if
        the server closed it straight after."""
        status, answer = self.request("POST", "/api/v1/realtime/tickets/", {}, token)
        assert status == 201, answer
        url = f"ws://127.0.0.1:{self.port}/ws/inventory/?ticket={answer['ticket']}"
        return asyncio.run(_first_frames(url))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def _first_frames(url: str) -> tuple[list[dict], int | None]:
    async with websockets.connect(url, open_timeout=5) as ws:
        frames = [json.loads(await asyncio.wait_for(ws.recv(), 5))]
        try:
            await asyncio.wait_for(ws.recv(), 0.5)
        except websockets.ConnectionClosed:
            return frames, ws.close_code
        except TimeoutError:
            pass
        return frames, None


@pytest.fixture
def daphne(tmp_path, redis):
    server = Daphne(tmp_path / "daphne.log", redis.url)
    yield server
    server.stop()


@pytest.mark.usefixtures("postgres")
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_server_keeps_answering_while_redis_is_down_and_recovers(daphne, redis, branch, product):
    user = ManagerFactory(branch=branch).user
    token = daphne.sign_in(user)
    receipt = {"branch": str(branch.pk), "product": str(product.pk), "quantity": "20"}
    assert daphne.request("POST", "/api/v1/movements/receive/", receipt, token)[0] == 201

    redis.stop()
    signed_in = daphne.request(
        "POST",
        "/api/v1/auth/token/",
        {"email": user.email, "password": PASSWORD, "device": "second"},
    )
    # Below the product's threshold of 10: an alert, whose e-mail cannot be queued.
    issue = {**receipt, "quantity": "15"}
    issued = daphne.request("POST", "/api/v1/movements/issue/", issue, token)
    listed = daphne.get("/api/v1/stock-levels/", token)
    ticket = daphne.request("POST", "/api/v1/realtime/tickets/", {}, token)
    down = daphne.get("/health/ready")
    redis.start()
    up = daphne.get("/health/ready")
    frames, closed = daphne.first_frames(token)

    assert signed_in[0] == 201
    assert issued[0] == 201
    assert StockMovement.objects.count() == 2
    assert LowStockAlert.objects.get().mail_status == MailStatus.PENDING
    assert listed[0] == 200
    assert listed[1]["results"][0]["on_hand"] == "5.000"
    assert (ticket[0], ticket[1]["code"]) == (503, "unavailable")
    assert down == (
        200,
        {"status": "degraded", "checks": {"database": "ok", "migrations": "ok", "redis": "down"}},
    )
    assert up == (
        200,
        {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "redis": "ok"}},
    )
    assert frames[0]["type"] == "welcome"
    assert closed is None
    assert " 500 " not in daphne.log.read_text()
    # Warned of in a line a minute, not with a traceback per failure.
    assert "Traceback" not in daphne.log.read_text()


@pytest.mark.usefixtures("postgres")
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_first_websocket_after_a_redis_restart_is_welcomed(daphne, redis, branch):
    token = daphne.sign_in(ManagerFactory(branch=branch).user)
    # A socket opened and closed: the process keeps its connection to Redis, with none open.
    assert daphne.first_frames(token)[0][0]["type"] == "welcome"

    redis.stop()
    redis.start()
    frames, closed = daphne.first_frames(token)

    assert frames[0]["type"] == "welcome"
    assert closed is None
    log = daphne.log.read_text()
    # The whole traceback on failure: pytest would cut the log short.
    assert "Exception inside application" not in log, log[log.find("Exception inside") :]


@pytest.mark.usefixtures("postgres")
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_websocket_opened_while_redis_is_down_is_closed_with_a_reason(daphne, redis, branch):
    token = daphne.sign_in(ManagerFactory(branch=branch).user)
    assert daphne.first_frames(token)[0][0]["type"] == "welcome"
    # A ticket needs Redis: taken before it stops.
    answer = daphne.request("POST", "/api/v1/realtime/tickets/", {}, token)[1]
    url = f"ws://127.0.0.1:{daphne.port}/ws/inventory/?ticket={answer['ticket']}"

    redis.stop()
    frames, closed = asyncio.run(_first_frames(url))

    assert frames == [
        {
            "type": "error",
            "code": "unavailable",
            "message": "Live updates are unavailable; reconnect in a moment.",
        }
    ]
    assert closed == 4503
    # Daphne itself closes with 1011 after an exception: the frame must be the consumer's.
    assert "Exception inside application" not in daphne.log.read_text()
