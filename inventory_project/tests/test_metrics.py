import json
import os
import subprocess
import sys

import pytest
from django.db import connection, transaction
from prometheus_client.parser import text_string_to_metric_families

from alerts import tasks as alert_tasks
from alerts.tests.factories import EmptyStockLevelFactory, LowStockAlertFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.celery import app as celery_app
from inventory_project.metrics import inventory_state
from stock import services as stock
from transfers import services as transfers
from transfers.tests.factories import sent, stocked

BASE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def scrape(client, **headers) -> dict:
    """The samples of /metrics as {(name, sorted labels): value}."""
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


def samples(text: str) -> dict:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict, name: str, /, **labels) -> float:
    return found.get((name, tuple(sorted((k, str(v)) for k, v in labels.items()))), 0.0)


@pytest.fixture(autouse=True)
def fresh_state(settings):
    settings.METRICS_STATE_SECONDS = 10
    inventory_state.forget()
    yield
    inventory_state.forget()


@pytest.fixture
def production(settings):
    settings.PRODUCTION = True
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    settings.BEHIND_PROXY = False
    return settings


# Who may read it --------------------------------------------------------------------------


@pytest.mark.django_db
def test_development_shows_metrics_to_a_loopback_client(client):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200


@pytest.mark.django_db
def test_development_hides_metrics_from_another_machine(client):
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.20").status_code == 404


@pytest.mark.django_db
def test_production_hides_metrics_from_loopback_without_a_token(client, production):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


@pytest.mark.django_db
def test_production_shows_metrics_to_the_bearer_of_the_token(client, production):
    production.METRICS_TOKEN = "a-long-scrape-token"

    response = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer a-long-scrape-token"
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    "authorization",
    ["Bearer wrong-token", "Bearer ", "Token a-long-scrape-token", "a-long-scrape-token", ""],
)
@pytest.mark.django_db
def test_production_hides_metrics_from_a_wrong_token(client, production, authorization):
    production.METRICS_TOKEN = "a-long-scrape-token"

    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 404


@pytest.mark.django_db
def test_an_empty_token_setting_lets_no_bearer_in(client, production):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer ")

    assert response.status_code == 404


@pytest.mark.django_db
def test_production_shows_metrics_to_an_allowed_network(client, production):
    production.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "fd00::/8"]

    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="fd00::7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::ffff:10.1.1.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.20").status_code == 404


@pytest.mark.django_db
def test_behind_the_proxy_the_allow_list_reads_the_real_client_address(client, production):
    production.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    production.BEHIND_PROXY = True

    allowed = client.get("/metrics", REMOTE_ADDR="172.18.0.5", HTTP_X_REAL_IP="10.0.0.9")
    refused = client.get("/metrics", REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP="198.51.100.7")

    assert (allowed.status_code, refused.status_code) == (200, 404)


@pytest.mark.django_db
def test_without_the_proxy_a_forged_real_ip_header_is_ignored(client, production):
    production.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]

    response = client.get("/metrics", REMOTE_ADDR="198.51.100.7", HTTP_X_REAL_IP="10.0.0.9")

    assert response.status_code == 404


@pytest.mark.django_db
def test_a_garbled_client_address_is_refused_not_an_error(client, production):
    production.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    production.BEHIND_PROXY = True

    response = client.get("/metrics", REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP="not-an-address")

    assert response.status_code == 404


def test_a_malformed_network_setting_stops_the_start(tmp_path):
    env = {**os.environ, "METRICS_ALLOWED_NETWORKS": "10.0.0.0/33"}
    env.pop("DATABASE_URL", None)

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env={**env, "SQLITE_PATH": str(tmp_path / "db.sqlite3")},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "METRICS_ALLOWED_NETWORKS" in result.stderr


@pytest.mark.django_db
def test_metrics_answer_only_get(client):
    assert client.post("/metrics").status_code == 405


# What it shows ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_name_requests_queries_live_events_tasks_and_the_inventory(client):
    client.get("/health/live")

    text = client.get("/metrics").content.decode()
    families = {family.name for family in text_string_to_metric_families(text)}

    assert {
        "django_http_requests_latency_seconds_by_view_method",
        "django_http_responses_total_by_status_view_method",
        "django_db_execute",
        "django_db_query_duration_seconds",
        "inventory_stock_movements",
        "inventory_stock_levels_below_threshold",
        "inventory_alerts_open",
        "inventory_transfers_in_transit",
        "inventory_branch_info",
        "inventory_alert_mail",
        "inventory_alert_mail_retries",
        "inventory_websocket_connections",
        "inventory_websocket_events_sent",
        "inventory_realtime_events_published",
        "inventory_celery_tasks",
        "inventory_celery_task_duration_seconds",
    } <= families


@pytest.mark.django_db
def test_request_latency_is_recorded_per_route(client):
    before = scrape(client)
    client.get("/health/live")
    after = scrape(client)

    name = "django_http_requests_latency_seconds_by_view_method_count"
    labels = {"view": "health-live", "method": "GET"}
    assert value(after, name, **labels) == value(before, name, **labels) + 1


@pytest.mark.django_db
def test_database_queries_are_counted(client, actor):
    before = scrape(client)
    list(type(actor).objects.all())
    list(type(actor).objects.all())
    after = scrape(client)

    name, labels = "django_db_execute_total", {"alias": "default", "vendor": connection.vendor}
    # The two reads, and the inventory's counts of the scrape in between.
    assert value(after, name, **labels) >= value(before, name, **labels) + 2


@pytest.mark.django_db
def test_a_receipt_is_counted_by_kind_and_branch_once_committed(
    client, actor, branch, product, django_capture_on_commit_callbacks
):
    labels = {"kind": "RECEIPT", "branch": branch.pk}
    before = value(scrape(client), "inventory_stock_movements_total", **labels)

    with django_capture_on_commit_callbacks(execute=True):
        stock.receive_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=5)
        stock.receive_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=2)
        during = value(scrape(client), "inventory_stock_movements_total", **labels)
    after = value(scrape(client), "inventory_stock_movements_total", **labels)

    assert (during, after) == (before, before + 2)


@pytest.mark.django_db
def test_a_receipt_rolled_back_is_not_counted(
    client, actor, branch, product, django_capture_on_commit_callbacks
):
    labels = {"kind": "RECEIPT", "branch": branch.pk}
    before = value(scrape(client), "inventory_stock_movements_total", **labels)

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                stock.receive_stock(
                    actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=5
                )
                raise RuntimeError("changed my mind")
        except RuntimeError:
            pass
    after = value(scrape(client), "inventory_stock_movements_total", **labels)

    assert after == before


@pytest.mark.django_db
def test_a_batch_registers_one_counting_callback_and_keeps_its_events_together(
    actor, branch, django_capture_on_commit_callbacks
):
    products = ProductFactory.create_batch(3)
    lines = [stock.MovementLine(product_id=p.pk, quantity=1) for p in products]

    with django_capture_on_commit_callbacks() as callbacks:
        stock.record_stock_batch(actor=actor, branch_id=branch.pk, kind="RECEIPT", lines=lines)

    kinds = [type(callback).__name__ for callback in callbacks]
    assert kinds.count("_MovementTally") == 1
    assert kinds.count("_Outbox") == 1


@pytest.mark.django_db
def test_the_inventory_gauges_count_low_stock_open_alerts_and_transfers_in_transit(client, actor):
    north, south = BranchFactory(code="NORTH"), BranchFactory(code="SOUTH")
    bolt = ProductFactory()
    EmptyStockLevelFactory(branch=north)
    EmptyStockLevelFactory(branch=north)
    LowStockAlertFactory(stock_level=EmptyStockLevelFactory(branch=south))
    LowStockAlertFactory(stock_level=EmptyStockLevelFactory(branch=south), acknowledged=True)
    LowStockAlertFactory(stock_level=EmptyStockLevelFactory(branch=south), resolved=True)
    stocked(north, bolt, 50, actor)
    transfer = sent(actor, north, south, (bolt, "5"))
    transfers.ship_transfer(actor=actor, transfer_id=transfer.pk)
    sent(actor, north, south, (bolt, "5"))  # approved, not shipped

    found = scrape(client)

    assert value(found, "inventory_stock_levels_below_threshold", branch=north.pk) == 2
    assert value(found, "inventory_stock_levels_below_threshold", branch=south.pk) == 3
    assert value(found, "inventory_alerts_open", branch=south.pk, status="OPEN") == 1
    assert value(found, "inventory_alerts_open", branch=south.pk, status="ACKNOWLEDGED") == 1
    assert value(found, "inventory_transfers_in_transit", branch=south.pk, status="IN_TRANSIT") == 1
    info = {"branch": north.pk, "code": "NORTH", "name": north.name}
    assert value(found, "inventory_branch_info", **info) == 1


@pytest.mark.django_db
def test_the_inventory_gauges_are_kept_a_few_seconds(client, settings):
    branch = BranchFactory()
    scrape(client)
    EmptyStockLevelFactory(branch=branch)

    kept = scrape(client)
    inventory_state.forget()
    counted = scrape(client)

    assert value(kept, "inventory_stock_levels_below_threshold", branch=branch.pk) == 0
    assert value(counted, "inventory_stock_levels_below_threshold", branch=branch.pk) == 1


@pytest.mark.parametrize("branches", [1, 6])
@pytest.mark.django_db
def test_a_scrape_costs_four_queries_then_none_while_kept(
    client, branches, django_assert_num_queries
):
    for _ in range(branches):
        LowStockAlertFactory(stock_level=EmptyStockLevelFactory(branch=BranchFactory()))

    with django_assert_num_queries(4):
        client.get("/metrics")
    with django_assert_num_queries(0):
        client.get("/metrics")


# Celery ---------------------------------------------------------------------------------------


@celery_app.task(name="inventory_project.tests.test_metrics.fails")
def fails():
    raise ValueError("broken on purpose")


@pytest.mark.django_db
def test_an_alert_mail_task_is_counted_by_its_outcome(client):
    task = "alerts.tasks.send_alert_email"
    before = scrape(client)

    alert_tasks.send_alert_email.apply(args=["00000000-0000-0000-0000-000000000000"])
    after = scrape(client)

    succeeded = {"task": task, "outcome": "success"}
    assert value(after, "inventory_celery_tasks_total", **succeeded) == (
        value(before, "inventory_celery_tasks_total", **succeeded) + 1
    )
    assert value(after, "inventory_alert_mail_total", outcome="missing") == (
        value(before, "inventory_alert_mail_total", outcome="missing") + 1
    )
    assert value(after, "inventory_celery_task_duration_seconds_count", task=task) == (
        value(before, "inventory_celery_task_duration_seconds_count", task=task) + 1
    )


@pytest.mark.django_db
def test_a_failing_task_is_counted_as_a_failure(client):
    labels = {"task": fails.name, "outcome": "failure"}
    before = value(scrape(client), "inventory_celery_tasks_total", **labels)

    # As in a worker, the error is the task's outcome rather than raised to the caller.
    result = fails.apply(throw=False)

    assert result.failed()

    assert value(scrape(client), "inventory_celery_tasks_total", **labels) == before + 1


@pytest.mark.django_db
def test_an_alert_mail_the_mail_server_refuses_is_counted_as_retries_then_a_failure(
    client, monkeypatch
):
    # As in a worker: errors and retries are the task's outcome, not raised to the caller.
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", False)

    def refuse(**kwargs):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr(alert_tasks.services, "send_alert_email", refuse)
    monkeypatch.setattr(alert_tasks.services, "note_mail_problem", lambda **kwargs: None)
    before = scrape(client)

    alert_tasks.send_alert_email.apply(args=["00000000-0000-0000-0000-000000000000"])
    after = scrape(client)

    retries = alert_tasks.send_alert_email.max_retries
    assert value(after, "inventory_alert_mail_retries_total") == (
        value(before, "inventory_alert_mail_retries_total") + retries
    )
    assert value(after, "inventory_alert_mail_total", outcome="failed") == (
        value(before, "inventory_alert_mail_total", outcome="failed") + 1
    )


# Several processes ----------------------------------------------------------------------------

COUNT_TWO_RECEIPTS = """
import django
django.setup()
from inventory_project.kernel import metrics
metrics.MOVEMENTS.labels("RECEIPT", "branch-a").inc(2)
"""

SCRAPE = """
import django, json
django.setup()
from django.test import Client
response = Client(HTTP_HOST="localhost").get("/metrics")
print(json.dumps({"status": response.status_code, "body": response.content.decode()}))
"""


def run_python(code: str, env: dict) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.django_db(transaction=True)
def test_in_multiprocess_mode_a_scrape_adds_up_every_process(tmp_path):
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "inventory_project.settings",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
    }
    env.pop("DJANGO_ENV", None)
    if connection.vendor != "postgresql":
        pytest.skip("the subprocesses read this test's PostgreSQL database")

    run_python(COUNT_TWO_RECEIPTS, env)
    run_python(COUNT_TWO_RECEIPTS, env)
    answer = json.loads(run_python(SCRAPE, env).splitlines()[-1])

    found = samples(answer["body"])
    assert answer["status"] == 200
    labels = {"kind": "RECEIPT", "branch": "branch-a"}
    assert value(found, "inventory_stock_movements_total", **labels) == 4
    # The inventory's gauges beside the processes' metrics, once.
    assert answer["body"].count("# TYPE inventory_stock_levels_below_threshold gauge") == 1
    assert len([name for name in os.listdir(tmp_path) if name.endswith(".db")]) >= 2


def test_the_gunicorn_hook_forgets_an_exited_process_and_starts_from_an_empty_directory(
    tmp_path, monkeypatch
):
    import runpy

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "counter_123.db").write_bytes(b"")
    (tmp_path / "gauge_livesum_456.db").write_bytes(b"")
    config = runpy.run_path(os.path.join(BASE_DIR, "deploy", "gunicorn.conf.py"))

    config["child_exit"](None, type("Worker", (), {"pid": 456})())
    left_after_exit = sorted(os.listdir(tmp_path))
    config["on_starting"](None)

    assert left_after_exit == ["counter_123.db"]
    assert os.listdir(tmp_path) == []


@pytest.mark.django_db
def test_the_worker_exporter_starts_only_with_a_port(monkeypatch):
    from inventory_project import celery as celery_module

    started = []
    monkeypatch.setattr(
        "prometheus_client.start_http_server",
        lambda port, addr, registry: started.append((port, addr)),
    )
    monkeypatch.delenv("CELERY_METRICS_PORT", raising=False)
    celery_module.serve_worker_metrics()
    monkeypatch.setenv("CELERY_METRICS_PORT", "9808")
    celery_module.serve_worker_metrics()

    assert started == [(9808, "0.0.0.0")]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.xdist_group("celery-worker")
@pytest.mark.django_db(transaction=True)
def test_a_worker_serves_the_task_outcomes_of_its_pool_on_its_own_port(tmp_path, settings):
    import signal
    import time
    import urllib.request

    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("a real worker needs PostgreSQL and Redis")
    database = connection.settings_dict
    queue = f"metrics-test-{os.getpid()}"
    port = free_port()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "CELERY_METRICS_PORT": str(port),
        "CELERY_METRICS_ADDRESS": "127.0.0.1",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
    }
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "--app", "inventory_project", "worker"),
            *("--pool=prefork", "--concurrency=1", f"--queues={queue}"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            *(f"--hostname=metrics-{os.getpid()}@%h", "--loglevel=INFO"),
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    task = "inventory_project.kernel.tasks.purge_expired_idempotent_requests"
    labels = {"task": task, "outcome": "success"}
    try:
        deadline = time.monotonic() + 60
        while " ready." not in log.read_text():
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        celery_app.send_task(task, queue=queue)
        celery_app.send_task(task, queue=queue)
        found: dict = {}
        while value(found, "inventory_celery_tasks_total", **labels) < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
                found = samples(answer.read().decode())
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)

    assert value(found, "inventory_celery_tasks_total", **labels) == 2
    assert value(found, "inventory_celery_task_duration_seconds_count", task=task) == 2
    # The worker's exporter shows the processes' metrics, not the inventory's state.
    assert not any(name == "inventory_stock_levels_below_threshold" for name, _ in found)
