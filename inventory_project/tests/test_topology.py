"""The production topology runs here: migrate, gunicorn, daphne, a Celery worker and beat,
each started with the argv docker-compose.yml gives it, and Debian's nginx serving
deploy/nginx.conf in front, all on loopback against a scratch PostgreSQL database, the
suite's Redis and an SMTP sink, with the compose file's production environment. A client
behind a TLS-terminating balancer (it sends X-Forwarded-Proto: https) signs in, receives and
issues through nginx and gunicorn, hears the change on a websocket through nginx and daphne,
and the manager's low-stock e-mail goes out through the worker; the counters move, the
probes and the compose health checks pass. nginx configs that break what ours guards (its
own $scheme passed on, /metrics let through) are shown to fail."""

import asyncio
import json
import os
import re
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websockets
from django.conf import settings
from django.db import connection

from alerts.tests.smtp import MailSink
from inventory_project.tests.helpers import free_port
from inventory_project.tests.topology import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    METRICS_TOKEN,
    NGINX_BIN,
    NGINX_CONF,
    PUBLIC_HOST,
    VENV_BIN,
    Process,
    answers,
    load_compose,
    loopback_argv,
    metric,
    service_environment,
    start_nginx,
)

pytestmark = [
    pytest.mark.slow,
    # Its servers hold dozens of database connections: the tests that open many at once
    # (this, the topology, the thread races) share one xdist worker, so that together they
    # stay within PostgreSQL's max_connections (100).
    pytest.mark.xdist_group("many-connections"),
    pytest.mark.skipif(not Path(NGINX_BIN).exists(), reason="needs Debian's nginx (ops-tools)"),
]

# What the suite's own environment may hold: the processes get only the compose file's.
OUTSIDE = (
    *("DATABASE_URL", "REDIS_URL", "EMAIL_URL", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"),
    *("DJANGO_ENV", "DJANGO_DEBUG", "ALLOWED_HOSTS", "METRICS_TOKEN", "SITE_URL"),
    *("CELERY_BROKER_URL", "CELERY_METRICS_PORT", "PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY"),
)
APP_SERVICES = ("web", "ws", "worker", "beat")


class Topology:
    """The compose services of the app, on loopback; ``base`` is nginx's address."""

    def __init__(self, folder: Path, database_url: str, sink: MailSink) -> None:
        self.folder = folder
        self.compose = load_compose()
        self.processes: dict[str, Process] = {}
        self.web_port, self.ws_port, self.metrics_port = free_port(), free_port(), free_port()
        self.ports = {"8000": self.web_port, "8001": self.ws_port, "9808": self.metrics_port}
        # The operator's .env: secrets, names and the mail server.
        dotenv = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "POSTGRES_PASSWORD": "unused: DATABASE_URL names the scratch database",
            "METRICS_TOKEN": METRICS_TOKEN,
            "ALLOWED_HOSTS": PUBLIC_HOST,
            "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
            "SITE_URL": f"https://{PUBLIC_HOST}",
            "DJANGO_SUPERUSER_EMAIL": ADMIN_EMAIL,
            "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
        }
        base = {k: v for k, v in os.environ.items() if k not in OUTSIDE}
        base.update(
            PATH=f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            # The image's own environment (deploy/Dockerfile).
            PYTHONUNBUFFERED="1",
            HOSTNAME=socket.gethostname(),
            # Publish/subscribe channels are one namespace per Redis server: this run's own.
            CHANNEL_LAYER_PREFIX=f"topology-{os.getpid()}",
            CELERY_METRICS_ADDRESS="127.0.0.1",
        )
        self.env = {}
        for service in ("migrate", *APP_SERVICES):
            env = {**base, **service_environment(self.compose, service, dotenv)}
            # The hosts of the compose network, made loopback's.
            env.update(DATABASE_URL=database_url, REDIS_URL=settings.REDIS_URL)
            if "CELERY_METRICS_PORT" in env:
                env["CELERY_METRICS_PORT"] = str(self.ports[env["CELERY_METRICS_PORT"]])
            if "PROMETHEUS_MULTIPROC_DIR" in env:
                # A tmpfs of its own per service, as in compose.
                directory = folder / f"prometheus-{service}"
                directory.mkdir()
                env["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
            self.env[service] = env
        # The brief's two gunicorn processes (gunicorn.conf.py reads WEB_CONCURRENCY).
        self.env["web"]["WEB_CONCURRENCY"] = "2"

    def argv(self, service: str) -> list[str]:
        argv = loopback_argv(self.compose["services"][service]["command"], self.ports, self.folder)
        program = VENV_BIN / argv[0]
        return [str(program), *argv[1:]] if program.exists() else argv

    def migrate(self) -> None:
        done = subprocess.run(
            self.argv("migrate"),
            cwd=settings.BASE_DIR,
            env=self.env["migrate"],
            capture_output=True,
            text=True,
            timeout=180,
        )
        if done.returncode != 0:
            raise RuntimeError(f"migrate failed:\n{done.stdout}\n{done.stderr}")
        self.migrate_output = done.stdout

    def start(self) -> None:
        for service in APP_SERVICES:
            self.processes[service] = Process(
                service, self.argv(service), self.env[service], self.folder / f"{service}.log"
            )
        web, ws = f"http://127.0.0.1:{self.web_port}", f"http://127.0.0.1:{self.ws_port}"
        self.processes["web"].wait_for(lambda: answers(f"{web}/health/live"))
        self.processes["ws"].wait_for(lambda: answers(f"{ws}/health/live"))
        worker = self.processes["worker"]
        worker.wait_for(lambda: " ready." in worker.output())
        beat = self.processes["beat"]
        beat.wait_for(lambda: "beat: Starting" in beat.output())
        nginx, self.base = start_nginx(
            self.folder / "nginx", NGINX_CONF.read_text(), self.web_port, self.ws_port
        )
        self.processes["nginx"] = nginx

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {n}\n{p.output()[-3000:]}" for n, p in self.processes.items())


def postgres_admin():
    """A connection to the maintenance database of the suite's PostgreSQL server."""
    import psycopg

    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


@pytest.fixture(scope="module")
def scratch_database():
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("the topology needs PostgreSQL and Redis: run with DATABASE_URL, REDIS_URL")
    name = f"topology_{os.getpid()}_{secrets.token_hex(4)}"
    db = connection.settings_dict
    with postgres_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    yield f"postgres://{db['USER']}{password}@{host}:{port}/{name}"
    with postgres_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def sink():
    server = MailSink().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def topology(tmp_path_factory, scratch_database, sink):
    started = Topology(tmp_path_factory.mktemp("topology"), scratch_database, sink)
    try:
        started.migrate()
        started.start()
        yield started
    finally:
        # Every process started is stopped, whatever failed.
        started.stop()


# Talking to it as a client behind the TLS balancer ------------------------------------------


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirects)


def call(
    base: str, method: str, path: str, body: dict | None = None, token: str | None = None, **more
) -> tuple[int, dict, dict]:
    """One request as the balancer forwards it: the public Host, X-Forwarded-Proto https."""
    headers = {"Host": PUBLIC_HOST, "X-Forwarded-Proto": "https", **more}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Token {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with OPENER.open(request, timeout=15) as response:
            status, answer, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, answer, raw = error.code, dict(error.headers), error.read()
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        parsed = {"text": raw.decode(errors="replace")}
    return status, parsed, answer


def scrape(url: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with OPENER.open(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def sign_in(base: str) -> str:
    status, body, _ = call(
        base,
        "POST",
        "/api/v1/auth/token/",
        {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "device": "topology"},
    )
    assert status == 201, body
    return body["token"]


def mail_to(sink: MailSink, address: str, timeout: float = 30) -> list:
    """The messages to ``address``, once there is one and a moment more has passed."""
    deadline = time.monotonic() + timeout
    while not any(m["To"] == address for m in sink.messages) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    return [m for m in sink.messages if m["To"] == address]


async def frames_until_quiet(ws, quiet: float) -> list[dict]:
    frames = []
    while True:
        try:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), quiet)))
        except TimeoutError:
            return frames


# The tests ----------------------------------------------------------------------------------


def test_migrate_created_the_first_administrator_from_the_environment(topology):
    assert f"Created the administrator {ADMIN_EMAIL}." in topology.migrate_output


def test_ready_and_live_are_green_through_nginx(topology):
    ready = call(topology.base, "GET", "/health/ready")
    live = call(topology.base, "GET", "/health/live")

    assert ready[:2] == (
        200,
        {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "redis": "ok"}},
    )
    assert live[:2] == (200, {"status": "ok"})


def test_metrics_are_refused_through_nginx_even_with_the_token(topology):
    assert scrape(f"{topology.base}/metrics", METRICS_TOKEN)[0] == 404
    assert scrape(f"http://127.0.0.1:{topology.web_port}/metrics", METRICS_TOKEN)[0] == 200


def test_a_plain_http_request_is_sent_to_https(topology):
    status, _, headers = call(topology.base, "GET", "/api/v1/me/", **{"X-Forwarded-Proto": ""})

    assert status == 301
    assert headers["Location"] == f"https://{PUBLIC_HOST}/api/v1/me/"


def test_stock_written_through_nginx_reaches_the_websocket_the_mailbox_and_the_counters(
    topology, sink
):
    base = topology.base
    web_metrics = f"http://127.0.0.1:{topology.web_port}/metrics"
    worker_metrics = f"http://127.0.0.1:{topology.metrics_port}/metrics"
    token = sign_in(base)
    assert call(base, "PATCH", "/api/v1/me/", {"alert_mail_all_branches": True}, token)[0] == 200
    status, branch, _ = call(
        base, "POST", "/api/v1/branches/", {"code": "TOP-01", "name": "Topology shop"}, token
    )
    assert status == 201, branch
    status, product, _ = call(
        base,
        "POST",
        "/api/v1/products/",
        {"sku": "TOP-JUICE", "name": "Topology juice", "low_stock_threshold": "5"},
        token,
    )
    assert status == 201, product
    _, web_before = scrape(web_metrics, METRICS_TOKEN)
    _, worker_before = scrape(worker_metrics)
    status, ticket, _ = call(base, "POST", "/api/v1/realtime/tickets/", {}, token)
    assert status == 201, ticket
    socket_url = base.replace("http://", "ws://") + ticket["url"]
    line = {"branch": branch["id"], "product": product["id"]}

    async def scenario() -> list[dict]:
        async with websockets.connect(
            socket_url, additional_headers={"X-Forwarded-Proto": "https"}
        ) as ws:
            welcome = json.loads(await ws.recv())
            assert welcome["type"] == "welcome", welcome
            for kind, quantity in (("receive", "10"), ("issue", "7")):
                answer = await asyncio.to_thread(
                    call,
                    base,
                    "POST",
                    f"/api/v1/movements/{kind}/",
                    {**line, "quantity": quantity},
                    token,
                )
                assert answer[0] == 201, answer[1]
            return await frames_until_quiet(ws, quiet=2.0)

    frames = asyncio.run(scenario())
    mail = mail_to(sink, ADMIN_EMAIL)

    changes = [f["data"]["on_hand_after"] for f in frames if f["type"] == "stock.changed"]
    assert changes == ["10.000", "3.000"], frames
    assert [f["data"]["sku"] for f in frames if f["type"] == "alert.raised"] == ["TOP-JUICE"]
    assert len(mail) == 1, topology.logs()
    assert "TOP-JUICE" in mail[0]["Subject"]

    _, web_after = scrape(web_metrics, METRICS_TOKEN)
    for kind in ("RECEIPT", "ISSUE"):
        labels = {"kind": kind, "branch": branch["id"]}
        assert metric(web_after, "inventory_stock_movements_total", **labels) == 1
    issued = {"view": "api-stock-issue", "method": "POST", "status": "201"}
    name = "django_http_responses_total_by_status_view_method_total"
    assert metric(web_after, name, **issued) - metric(web_before, name, **issued) == 1
    sent = {"task": "alerts.tasks.send_alert_email", "outcome": "success"}
    worker_after = worker_before
    for _ in range(50):
        _, worker_after = scrape(worker_metrics)
        if metric(worker_after, "inventory_celery_tasks_total", **sent) > metric(
            worker_before, "inventory_celery_tasks_total", **sent
        ):
            break
        time.sleep(0.2)
    assert (
        metric(worker_after, "inventory_celery_tasks_total", **sent)
        - metric(worker_before, "inventory_celery_tasks_total", **sent)
        == 1
    )
    assert (
        metric(worker_after, "inventory_alert_mail_total", outcome="SENT")
        - metric(worker_before, "inventory_alert_mail_total", outcome="SENT")
        == 1
    )


def test_each_process_runs_the_compose_argv_with_only_hosts_ports_and_paths_made_ours(
    topology,
):
    ours = {str(port): theirs for theirs, port in topology.ports.items()}
    for service in ("migrate", *APP_SERVICES):
        given = topology.compose["services"][service]["command"]
        argv = topology.argv(service)
        assert len(argv) == len(given)
        assert Path(argv[0]).name == given[0]
        for arg, theirs in zip(argv[1:], given[1:], strict=True):
            back = arg.replace(str(topology.folder), "/tmp").replace("127.0.0.1", "0.0.0.0")
            for port, original in ours.items():
                back = re.sub(rf"(?<!\d){port}(?!\d)", original, back)
            assert back == theirs


def test_gunicorn_serves_with_two_worker_processes(topology):
    master = topology.processes["web"].process.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()

    assert len(children) == 2


def healthcheck(topology, service: str) -> subprocess.CompletedProcess:
    """The compose health check of ``service``, run as its container would run it."""
    test = topology.compose["services"][service]["healthcheck"]["test"]
    if service == "nginx":
        test = [t.replace("http://127.0.0.1/", f"{topology.base}/") for t in test]
    if test[0] == "CMD-SHELL":
        argv = [
            "sh",
            "-c",
            loopback_argv([test[1].replace("$$", "$")], topology.ports, topology.folder)[0],
        ]
    else:
        argv = loopback_argv(test[1:], topology.ports, topology.folder)
    return subprocess.run(
        argv,
        cwd=settings.BASE_DIR,
        env=topology.env.get(service, topology.env["web"]),
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize("service", ["web", "ws", "worker", "beat", "nginx"])
def test_each_services_compose_health_check_passes(topology, service):
    done = healthcheck(topology, service)

    assert done.returncode == 0, done.stdout + done.stderr


# nginx configs that break what ours guards ----------------------------------------------------


@pytest.fixture
def other_nginx(topology, tmp_path):
    """``other_nginx(site)``: another nginx serving ``site`` in front of the same processes."""
    started = []

    def start(site: str) -> str:
        process, base = start_nginx(tmp_path / "nginx", site, topology.web_port, topology.ws_port)
        started.append(process)
        return base

    yield start
    for process in started:
        process.stop()


def test_nginx_passing_its_own_scheme_sends_the_balancers_https_requests_round_a_redirect_loop(
    topology, other_nginx
):
    site = NGINX_CONF.read_text()
    assert "X-Forwarded-Proto $forwarded_proto;" in site
    broken = other_nginx(
        site.replace("X-Forwarded-Proto $forwarded_proto;", "X-Forwarded-Proto $scheme;")
    )
    here = f"https://{PUBLIC_HOST}/api/v1/me/"

    ours = call(topology.base, "GET", "/api/v1/me/")
    first = call(broken, "GET", "/api/v1/me/")
    # The client follows to the very address it asked for, through the balancer again.
    again = call(broken, "GET", re.sub(r"^https://[^/]+", "", first[2]["Location"]))

    assert ours[0] == 401
    assert (first[0], first[2]["Location"]) == (301, here)
    assert (again[0], again[2]["Location"]) == (301, here)


def test_nginx_without_its_metrics_block_would_show_the_counters_to_the_public(
    topology, other_nginx
):
    site = NGINX_CONF.read_text()
    block = re.search(r"\n\s*location = /metrics \{[^}]*\}", site)
    assert block
    open_metrics = other_nginx(site.replace(block.group(0), ""))

    status, text = scrape(f"{open_metrics}/metrics", METRICS_TOKEN)

    assert status == 200
    assert "django_http_responses_total_by_status" in text
