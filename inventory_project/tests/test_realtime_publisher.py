"""The process's live-event publisher, on the real Redis: one kept connection, one round trip
per batch, versions shared by every process, nothing before commit, and requests that go on
while Redis is away."""

import json
import os
import subprocess
import sys
import uuid

import msgpack
import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer
from django.conf import settings
from django.db import transaction
from prometheus_client import REGISTRY

from inventory_project.kernel import outage, realtime
from inventory_project.tests.helpers import GroupListener
from inventory_project.tests.redis_server import PrivateRedis

pytestmark = [
    pytest.mark.synthetic_events,
    pytest.mark.skipif(not settings.REDIS_URL, reason="publishes through Redis (REDIS_URL)"),
]


class Abandoned(Exception):
    pass


@pytest.fixture
def in_background(settings):
    """As in production: the commit hands its events over and goes on."""
    settings.REALTIME_WAIT_FOR_DELIVERY = False
    yield
    realtime.flush()


@pytest.fixture
def branch_id():
    return uuid.uuid4()


@pytest.fixture
def listener(branch_id):
    listening = GroupListener(realtime.branch_group(branch_id))
    yield listening.received
    listening.stop()


def numbered(branch_id, n: int) -> dict:
    return realtime.event("test.event", branch_id, {"n": n})


def dropped(reason: str) -> float:
    labels = {"reason": reason}
    return REGISTRY.get_sample_value("inventory_realtime_events_dropped_total", labels) or 0.0


def published() -> float:
    return REGISTRY.get_sample_value("inventory_realtime_events_published_total") or 0.0


def publisher_connections(url: str) -> list[dict]:
    """The connections this process's publisher holds to the Redis at ``url``."""
    name = f"inventory-publisher-{os.getpid()}"
    return [c for c in redis.Redis.from_url(url).client_list() if c["name"] == name]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_background")
def test_one_connection_carries_every_transactions_events(branch_id, listener):
    realtime.publish_after_commit(numbered(branch_id, 0))
    assert realtime.flush()
    [before] = publisher_connections(settings.REDIS_URL)

    for n in range(1, 21):
        with transaction.atomic():
            realtime.publish_after_commit(numbered(branch_id, n))
    assert realtime.flush()

    [after] = publisher_connections(settings.REDIS_URL)
    assert after["id"] == before["id"]
    assert [event["data"]["n"] for event in listener()] == list(range(21))


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_background")
def test_nothing_goes_out_before_commit_nor_for_a_rolled_back_transaction(branch_id, listener):
    def publish_then_fail():
        with transaction.atomic():
            realtime.publish_after_commit(numbered(branch_id, 1))
            raise Abandoned

    count = published()
    with pytest.raises(Abandoned):
        publish_then_fail()
    with transaction.atomic():
        realtime.publish_after_commit(numbered(branch_id, 2))
        assert realtime.flush()
        assert published() == count

    assert realtime.flush()
    assert [event["data"]["n"] for event in listener()] == [2]
    assert published() == count + 1


@pytest.mark.django_db(transaction=True)
def test_a_transactions_events_keep_their_order_and_each_branch_its_numbers(listener, branch_id):
    other = uuid.uuid4()
    listening_to_other = GroupListener(realtime.branch_group(other))
    try:
        with transaction.atomic():
            for n in range(6):
                realtime.publish_after_commit(numbered(branch_id if n % 2 else other, n))

        mine, theirs = listener(), listening_to_other.received()
    finally:
        listening_to_other.stop()
    assert [event["data"]["n"] for event in mine] == [1, 3, 5]
    assert [event["data"]["n"] for event in theirs] == [0, 2, 4]
    for events in (mine, theirs):
        assert [event["version"] for event in events] == [1, 2, 3]


PUBLISH_ELSEWHERE = """
import os, sys
import django
django.setup()
from django.conf import settings
settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = sys.argv[1]
from inventory_project.kernel import realtime
events = [realtime.event("test.event", sys.argv[2], {"n": int(n)}) for n in sys.argv[3:]]
realtime.publish_after_commit(*events)
# No flush: what was handed over goes out as the process exits.
"""


def publish_in_another_process(branch_id, *numbers: int) -> None:
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "inventory_project.settings"}
    subprocess.run(
        [sys.executable, "-c", PUBLISH_ELSEWHERE, prefix, str(branch_id), *map(str, numbers)],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        timeout=60,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_versions_go_on_without_gaps_across_processes(branch_id, listener):
    realtime.publish_after_commit(numbered(branch_id, 1), numbered(branch_id, 2))
    publish_in_another_process(branch_id, 3, 4)
    realtime.publish_after_commit(numbered(branch_id, 5))

    events = listener()

    assert [event["data"]["n"] for event in events] == [1, 2, 3, 4, 5]
    assert [event["version"] for event in events] == [1, 2, 3, 4, 5]


def subscribed(group: str):
    channel = f"{get_channel_layer()._kwargs['prefix']}__group__{group}"
    subscriber = redis.Redis.from_url(settings.REDIS_URL).pubsub()
    subscriber.subscribe(channel)
    assert subscriber.get_message(timeout=5)["type"] == "subscribe"
    return subscriber


@pytest.mark.django_db(transaction=True)
def test_the_layer_carries_the_message_event_message_makes_of_the_numbered_event(branch_id):
    subscriber = subscribed(realtime.branch_group(branch_id))
    sent = realtime.event("stock.changed", branch_id, {"é": ["ü", 1.5, None], "x" * 40: 1})

    realtime.publish_after_commit(sent)
    message = subscriber.get_message(timeout=5)
    subscriber.close()

    stamped = {**sent, "version": 1}
    assert msgpack.unpackb(message["data"]) == realtime.event_message(stamped)
    assert msgpack.unpackb(message["data"])["text"] == json.dumps(stamped)


@pytest.mark.django_db(transaction=True)
def test_a_catalog_event_goes_to_the_catalog_group_with_no_branch():
    subscriber = subscribed(realtime.CATALOG_GROUP)
    sent = realtime.event("product.changed", None, {"product": str(uuid.uuid4())})

    realtime.publish_after_commit(sent)
    message = msgpack.unpackb(subscriber.get_message(timeout=5)["data"])
    subscriber.close()

    assert message["branch"] is None
    assert json.loads(message["text"])["data"] == sent["data"]


@pytest.mark.django_db(transaction=True)
def test_an_access_notice_reaches_the_users_group_after_commit():
    user_id = uuid.uuid4()
    subscriber = subscribed(realtime.user_group(user_id))

    with transaction.atomic():
        realtime.notify_access_changed(user_id)
        assert subscriber.get_message(timeout=0.2) is None
    message = subscriber.get_message(timeout=5)
    subscriber.close()

    assert msgpack.unpackb(message["data"]) == {"type": "access.changed"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_worker_publishes_through_a_publisher_of_its_own(branch_id, listener):
    # As gunicorn's and Celery's workers are forked from a parent that may have published.
    realtime.publish_after_commit(numbered(branch_id, 1))
    parent = realtime._publisher
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        code = 1
        try:
            realtime.publish_after_commit(numbered(branch_id, 2))
            child = realtime._publisher
            code = 0 if child is not parent and child.pid == os.getpid() and realtime.flush() else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert [event["data"]["n"] for event in listener()] == [1, 2]
    assert realtime._publisher is parent


# Redis away ------------------------------------------------------------------------------


@pytest.fixture
def private_redis(tmp_path, settings, monkeypatch):
    """The channel layer on a Redis of the test's own, to stop and start."""
    server = PrivateRedis(tmp_path)
    layer = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {
        "default": {**layer, "CONFIG": {**layer["CONFIG"], "hosts": [server.url]}}
    }
    monkeypatch.setattr(outage, "_last_warned", {})
    channel_layers.backends.clear()
    yield server
    realtime.flush()
    server.stop()
    channel_layers.backends.clear()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_background")
def test_while_redis_is_away_commits_go_on_and_events_are_dropped_then_flow_again(
    private_redis, branch_id
):
    private_redis.stop()
    before = dropped("unreachable")

    with transaction.atomic():
        realtime.publish_after_commit(numbered(branch_id, 1), numbered(branch_id, 2))
    assert realtime.flush()

    assert dropped("unreachable") == before + 2
    private_redis.start()
    listening = GroupListener(realtime.branch_group(branch_id))
    try:
        with transaction.atomic():
            realtime.publish_after_commit(numbered(branch_id, 3))
        assert realtime.flush()
        assert [event["data"]["n"] for event in listening.received()] == [3]
    finally:
        listening.stop()
    assert len(publisher_connections(private_redis.url)) == 1


def test_past_its_queue_events_are_dropped_and_counted(monkeypatch, branch_id):
    # A Redis that takes connections and never answers holds the publisher's first call.
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    monkeypatch.setattr(realtime, "QUEUE_SIZE", 1)
    monkeypatch.setattr(realtime, "SOCKET_TIMEOUT", 0.5)
    publisher = realtime._Publisher()
    route = realtime._Route(
        key="silent",
        prefix="silent",
        hosts=({"address": f"redis://127.0.0.1:{silent.getsockname()[1]}"},),
    )
    before = dropped("queue_full")
    try:
        for n in range(4):
            publisher.submit(route, ("events", [numbered(branch_id, n)]))
        # One in the thread's hands, one waiting; the other two had no room.
        assert dropped("queue_full") in (before + 2, before + 3)
        assert publisher.flush(10)
    finally:
        silent.close()


def test_without_redis_the_in_process_layer_carries_the_events(settings, branch_id):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    try:
        layer = get_channel_layer()
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(realtime.branch_group(branch_id), channel)

        realtime.publish_after_commit(numbered(branch_id, 1))

        message = async_to_sync(layer.receive)(channel)
        assert json.loads(message["text"])["data"] == {"n": 1}
    finally:
        channel_layers.backends.clear()


def test_a_group_s_current_version_is_the_number_of_its_last_event(branch_id):
    group = realtime.branch_group(branch_id)
    other = realtime.branch_group(uuid.uuid4())
    assert realtime.current_versions([group]) == {group: 0}

    for n in range(3):
        realtime.publish_after_commit(numbered(branch_id, n))  # outside a transaction: now
    assert realtime.flush()

    assert realtime.current_versions([group, other]) == {group: 3, other: 0}


def test_without_redis_the_versions_cannot_be_told(branch_id, private_redis):
    private_redis.stop()

    assert realtime.current_versions([realtime.branch_group(branch_id)]) is None
