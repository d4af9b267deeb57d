"""JSON log lines, and the request id that follows a request into its tasks and events."""

import contextvars
import io
import json
import logging
import sys

import pytest
from celery import shared_task, signals

from inventory_project.kernel import logging as request_logging
from inventory_project.kernel import realtime
from inventory_project.tests.helpers import embedded_env, manage

MIDDLEWARE = "inventory_project.kernel.middleware.RequestIdMiddleware"
PRODUCTION_SECRET = "k3Y-for-tests-only-9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0"


@pytest.fixture
def with_request_ids(settings):
    if MIDDLEWARE not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [MIDDLEWARE, *settings.MIDDLEWARE]


@pytest.fixture
def json_lines():
    """What the loggers write through the JSON formatter, one parsed object per line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(request_logging.JsonFormatter())
    handler.addFilter(request_logging.RequestIdFilter())
    root = logging.getLogger()
    quiet = {name: logging.getLogger(name).level for name in (
        "inventory_project.requests", "inventory_project.kernel.realtime.published", "tests"
    )}  # fmt: skip
    for name in quiet:
        logging.getLogger(name).setLevel(logging.INFO)
    root.addHandler(handler)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    root.removeHandler(handler)
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)


@shared_task(name="tests.kernel.log_a_line")
def log_a_line() -> None:
    logging.getLogger("tests").info("in the task")


# Requests ---------------------------------------------------------------------------------


def test_a_requests_log_line_is_json_with_the_id_its_response_carries(
    client, db, with_request_ids, json_lines
):
    response = client.get("/healthz")

    [line] = [line for line in json_lines() if line["logger"] == "inventory_project.requests"]
    assert line["request_id"] == response["X-Request-ID"]
    assert len(response["X-Request-ID"]) == 32
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    assert {"time", "level", "message", "user_id"} <= line.keys()


def test_a_signed_in_users_request_line_names_them(actor, client, with_request_ids, json_lines):
    client.force_login(actor)

    client.get("/stock/")

    [line] = [line for line in json_lines() if line["logger"] == "inventory_project.requests"]
    assert line["user_id"] == str(actor.pk)


def test_a_well_formed_incoming_request_id_is_kept(client, db, with_request_ids, json_lines):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a9c21e0d44b5a"})

    assert response["X-Request-ID"] == "lb-7f3a9c21e0d44b5a"
    assert json_lines()[-1]["request_id"] == "lb-7f3a9c21e0d44b5a"


@pytest.mark.parametrize(
    "incoming", ['abc"}\n{"level": "ERROR', "short", "x" * 129, "id with spaces in it", ""]
)
def test_a_malformed_incoming_request_id_is_replaced(client, db, with_request_ids, incoming):
    response = client.get("/healthz", headers={"X-Request-ID": incoming})

    assert response["X-Request-ID"] != incoming
    assert request_logging.well_formed(response["X-Request-ID"])


def test_no_request_id_is_left_behind_after_the_request(client, db, with_request_ids):
    client.get("/healthz")

    assert request_logging.current_request_id() is None


# Tasks ------------------------------------------------------------------------------------


def test_a_task_queued_in_a_request_logs_that_requests_id_in_the_worker(json_lines):
    headers: dict = {}
    with request_logging.bound_request_id("0123456789abcdef0123456789abcdef"):
        signals.before_task_publish.send(sender=log_a_line.name, headers=headers, body=None)

    # The worker: another process, its context knows nothing of the request.
    def in_the_worker():
        log_a_line.apply(task_id="task-1", headers=headers)
        return request_logging.current_request_id()

    left_over = contextvars.Context().run(in_the_worker)

    [line] = [line for line in json_lines() if line["message"] == "in the task"]
    assert line["request_id"] == "0123456789abcdef0123456789abcdef"
    assert line["task_id"] == "task-1"
    assert line["task_name"] == "tests.kernel.log_a_line"
    assert left_over is None


def test_a_task_queued_outside_any_request_carries_no_id():
    headers: dict = {}

    signals.before_task_publish.send(sender=log_a_line.name, headers=headers, body=None)

    assert "request_id" not in headers


def test_a_task_run_eagerly_in_the_request_keeps_its_id(json_lines):
    with request_logging.bound_request_id("fedcba9876543210fedcba9876543210"):
        log_a_line.apply(task_id="task-2")
        after = request_logging.current_request_id()

    [line] = [line for line in json_lines() if line["message"] == "in the task"]
    assert line["request_id"] == "fedcba9876543210fedcba9876543210"
    assert after == "fedcba9876543210fedcba9876543210"


# Live events ------------------------------------------------------------------------------


@pytest.mark.synthetic_events
def test_live_events_published_in_a_request_are_logged_with_its_id(
    branch, json_lines, django_capture_on_commit_callbacks
):
    stamped = realtime.event("test.event", branch.pk, {"n": 1})

    with (
        request_logging.bound_request_id("aaaabbbbccccddddaaaabbbbccccdddd"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        realtime.publish_after_commit(stamped)

    [line] = [line for line in json_lines() if line["logger"].endswith("realtime.published")]
    assert line["request_id"] == "aaaabbbbccccddddaaaabbbbccccdddd"
    assert line["events"] == [f"test.event:{branch.pk}:{stamped['at']}"]


# The formatter ----------------------------------------------------------------------------


def test_an_exception_is_one_json_line_with_its_traceback():
    formatter = request_logging.JsonFormatter()
    try:
        raise ValueError("broken")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())

    text = formatter.format(record)

    assert "\n" not in text
    line = json.loads(text)
    assert line["level"] == "ERROR"
    assert "ValueError: broken" in line["exception"]
    assert line["request_id"] is None


# Settings ---------------------------------------------------------------------------------

LOG_A_WARNING = 'import logging; logging.getLogger("probe").warning("hello %s", "there")'


def test_production_logs_json_lines(tmp_path):
    env = embedded_env(
        tmp_path,
        DJANGO_ENV="production",
        SECRET_KEY=PRODUCTION_SECRET,
        ALLOWED_HOSTS="inventory.example.com",
    )

    result = manage("shell", "--no-imports", "-c", LOG_A_WARNING, env=env)

    [line] = [json.loads(text) for text in result.stderr.splitlines() if "probe" in text]
    assert line["message"] == "hello there"
    assert line["level"] == "WARNING"
    assert line["logger"] == "probe"


def test_development_logs_plain_text(tmp_path):
    result = manage("shell", "--no-imports", "-c", LOG_A_WARNING, env=embedded_env(tmp_path))

    assert "WARNING probe hello there" in result.stderr


def test_an_unknown_log_format_is_refused(tmp_path):
    env = embedded_env(tmp_path, LOG_FORMAT="xml")

    result = manage("check", env=env, check=False)

    assert "LOG_FORMAT must be" in result.stderr
