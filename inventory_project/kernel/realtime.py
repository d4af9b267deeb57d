"""Live updates: the events every open websocket of a branch receives, and how they are sent.

Services publish their own events with ``publish``, each declared once with its typed data
in the catalogue (``inventory_project.kernel.events``): nothing is sent before the
transaction commits, and nothing at all when it rolls back. The events of one transaction
go out together, in order, through the channel layer (Redis with ``REDIS_URL``, so every
server process gets them), to the group of the branch they concern. Each event carries a
per-branch ``version``: a client that sees a number skipped knows it missed something and
refetches through the API.

With Redis, the commit only hands its events to this process's publisher, a thread that
keeps one connection to Redis and numbers and publishes a batch of events in one round trip
(a Lua script writing channels-redis' wire format), so a request neither waits for Redis
nor fails with it: while Redis is away, events are dropped and counted. Without Redis (the
in-memory layer of ``make run``) they are sent through the layer at the commit.

Mobile clients open the socket with a short-lived, single-use ticket obtained through the
token-authenticated API; only its digest is kept, in the cache.
"""

import atexit
import hashlib
import json
import logging
import os
import queue
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgpack
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from channels_redis.serializers import MsgPackSerializer
from channels_redis.utils import _consistent_hash, decode_hosts
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from prometheus_client import Counter, Gauge
from redis.backoff import NoBackoff
from redis.retry import Retry

from inventory_project.kernel import outage
from inventory_project.kernel.events import Event, catalogue

logger = logging.getLogger(__name__)
published_log = logging.getLogger(f"{__name__}.published")

# Events about the catalog concern every branch; every connection listens to them.
CATALOG_GROUP = "catalog"
EVENT_HANDLER = "inventory.event"  # InventoryConsumer.inventory_event
ACCESS_HANDLER = "access.changed"  # InventoryConsumer.access_changed

OPEN_CONNECTIONS = Gauge(
    "inventory_websocket_connections", "Websocket connections open in this process."
)
EVENTS_SENT = Counter(
    "inventory_websocket_events_sent_total",
    "Events written to websocket clients by this process.",
    ["type"],
)


def branch_group(branch_id: uuid.UUID | str) -> str:
    return f"branch.{uuid.UUID(str(branch_id)).hex}"


def user_group(user_id: uuid.UUID | str) -> str:
    return f"user.{uuid.UUID(str(user_id)).hex}"


# Publishing -------------------------------------------------------------------------------


def publish(name: str, data: Event, *, branch: uuid.UUID | str | None = None) -> None:
    """Send the event ``name`` (declared in the catalogue) with ``data`` to the sockets
    following ``branch`` (every socket for a catalog event) once the current transaction
    commits."""
    declared = catalogue.check(name, data)
    if (branch is None) != (declared.audience == "catalog"):
        raise ValueError(f"A {name} event goes to {declared.audience}, not to {branch!r}.")
    publish_after_commit(event(name, branch, data.model_dump(mode="json")))


def event(type: str, branch_id: uuid.UUID | str | None, data: dict[str, Any]) -> dict:
    """An event about ``branch_id`` (None: about the catalog), stamped now."""
    return {
        "type": type,
        "branch": str(branch_id) if branch_id else None,
        "data": data,
        "at": datetime.now(UTC).isoformat(),
    }


def publish_after_commit(*events: dict) -> None:
    """Send ``events`` (envelopes from ``event``) to their branches' groups once the
    current transaction commits; services go through ``publish``."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _Outbox(list(events))()
        return
    # The events of one transaction level share one outbox, sent in one go after commit.
    # An outbox registered at another savepoint level is not reused: should that savepoint
    # roll back, its events must go with it.
    pending = connection.run_on_commit[-1] if connection.run_on_commit else None
    if pending and isinstance(pending[1], _Outbox) and pending[0] == set(connection.savepoint_ids):
        pending[1].events.extend(events)
        return
    transaction.on_commit(_Outbox(list(events)), robust=True)


@dataclass
class _Outbox:
    events: list[dict] = field(default_factory=list)

    def __call__(self) -> None:
        # Runs in the request after its commit: hand the events over and return.
        try:
            _hand_over(("events", self.events))
            # The envelope has no room for it: the request's id (on the line, from the
            # context) and each event's own names, to find the request behind an event.
            if published_log.isEnabledFor(logging.INFO):
                published_log.info(
                    "%d live events handed to the publisher",
                    len(self.events),
                    extra={"events": [_event_id(stamped) for stamped in self.events]},
                )
        except Exception:
            # The change is committed; a client that missed the event refetches on the gap.
            logger.exception("Could not publish %d live events", len(self.events))


def _event_id(stamped: dict) -> str:
    """An event's names in the logs: its type, branch and time (its version is known only
    once Redis numbered it)."""
    return f"{stamped['type']}:{stamped['branch'] or 'catalog'}:{stamped['at']}"


def event_message(stamped: dict) -> dict:
    """The channel-layer message carrying an event to the consumers of its group; the
    frame is written once here, not once per socket."""
    return {
        "type": EVENT_HANDLER,
        "event_type": stamped["type"],
        "branch": stamped["branch"],
        "text": json.dumps(stamped),
    }


def notify_access_changed(user_id: uuid.UUID | str) -> None:
    """Tell ``user_id``'s open connections, once the transaction commits, to ask the
    permission module again which branches they may follow."""
    message = {"type": ACCESS_HANDLER}
    group = user_group(user_id)

    def notify() -> None:
        try:
            _hand_over(("message", group, message))
        except Exception:
            logger.exception("Could not tell %s that its access changed", group)

    transaction.on_commit(notify, robust=True)


def flush(timeout: float = 5.0) -> bool:
    """Wait until this process has sent (or given up on) every event handed over so far;
    whether it did within ``timeout`` seconds."""
    publisher = _publisher
    return publisher is None or publisher.pid != os.getpid() or publisher.flush(timeout)


def _hand_over(item: tuple) -> None:
    layer = get_channel_layer()
    route = _route(layer)
    if route is None:
        # A layer of this process (in memory, without REDIS_URL): sent right here.
        _send_through_layer(layer, item)
        return
    publisher = _get_publisher()
    publisher.submit(route, item)
    if getattr(settings, "REALTIME_WAIT_FOR_DELIVERY", False):
        # Tests that read what went out right after a commit.
        publisher.flush(5.0)


def _send_through_layer(layer, item: tuple) -> None:
    if item[0] == "events":
        messages = []
        for stamped in item[1]:
            group = _group_of(stamped)
            messages.append((group, event_message({**stamped, "version": _next_version(group)})))
    else:
        messages = [(item[1], item[2])]
    async_to_sync(_send_all)(layer, messages)
    EVENTS_PUBLISHED.inc(len(messages))


async def _send_all(layer, messages: list[tuple[str, dict]]) -> None:
    for group, message in messages:
        await layer.group_send(group, message)


def current_versions(groups: list[str]) -> dict[str, int] | None:
    """The number of the last event sent to each of ``groups`` (0 before any), as every
    process sees it: what was read after that number includes what those events announced.
    None when it cannot be told for every process: without a shared Redis layer (each
    process numbers its own events) or with Redis unreachable."""
    route = _route(get_channel_layer())
    if route is None:
        return None
    try:
        by_shard: dict[int, list[str]] = {}
        for group in groups:
            by_shard.setdefault(route.shard(route.group_channel(group)), []).append(group)
        versions = {}
        for shard, named in by_shard.items():
            found = _reader(route, shard).mget([route.version_key(group) for group in named])
            versions |= {group: int(value or 0) for group, value in zip(named, found, strict=True)}
        return versions
    except outage.OUTAGE_ERRORS as error:
        outage.warn(logger, "realtime-versions", "Live event numbers are unreadable: %s", error)
        return None


_readers: dict[tuple[str, int, int], redis.Redis] = {}


def _reader(route: "_Route", shard: int) -> redis.Redis:
    """A client for reading the version counters from requests (thread-safe, pooled)."""
    key = (route.key, shard, os.getpid())
    client = _readers.get(key)
    if client is None:
        options = {"socket_connect_timeout": 0.5, "socket_timeout": 1, **route.hosts[shard]}
        address = options.pop("address", None)
        client = redis.Redis.from_url(address, **options) if address else redis.Redis(**options)
        _readers[key] = client
    return client


def _next_version(group: str) -> int:
    """The group's next event number, for a channel layer of this process alone."""
    key = f"realtime:version:{group}"
    try:
        return cache.incr(key)
    except ValueError:
        cache.add(key, 0, timeout=None)
        return cache.incr(key)


def _group_of(stamped: dict) -> str:
    return branch_group(stamped["branch"]) if stamped["branch"] else CATALOG_GROUP


# The publisher: one per process, one Redis connection per Redis --------------------------

EVENTS_PUBLISHED = Counter(
    "inventory_realtime_events_published_total",
    "Live events (and access notices) this process published to the channel layer.",
)
EVENTS_DROPPED = Counter(
    "inventory_realtime_events_dropped_total",
    "Live events this process gave up on: Redis unreachable, the queue full, or an error.",
    ["reason"],
)

# Events waiting for the publisher; past this, new ones are dropped (and counted) rather
# than held while Redis is away.
QUEUE_SIZE = 10_000
# Events sent in one round trip at most, when several transactions' events are waiting.
BATCH_SIZE = 200
SOCKET_TIMEOUT = 2.0

# Numbers each event of its group and publishes it in channels-redis' publish/subscribe
# wire format (msgpack of the layer's message; no encryption, no prefix bytes), the version
# stamped last in the frame's text, in one round trip for a whole batch.
# KEYS: each event's version counter. ARGV: for each event its group's channel, the
# message packed up to the text's value, and the text up to its version number.
_PUBLISH_SCRIPT = """
local versions = {}
for i, key in ipairs(KEYS) do
  local version = redis.call('INCR', key)
  local at = (i - 1) * 3
  local text = ARGV[at + 3] .. string.format('%d', version) .. '}'
  redis.call('PUBLISH', ARGV[at + 1], ARGV[at + 2] .. cmsgpack.pack(text))
  versions[i] = version
end
return versions
"""


@dataclass(frozen=True)
class _Route:
    """Where a channels-redis publish/subscribe layer's groups live."""

    key: str
    prefix: str
    hosts: tuple[dict, ...]

    def shard(self, channel: str) -> int:
        return _consistent_hash(channel, len(self.hosts))

    def group_channel(self, group: str) -> str:
        # As RedisPubSubLoopLayer._get_group_channel_name names it.
        return f"{self.prefix}__group__{group}"

    def version_key(self, group: str) -> str:
        return f"{self.prefix}:realtime:version:{group}"


def _route(layer) -> _Route | None:
    """The route of a publish/subscribe layer whose wire format the script writes; None for
    any other layer, which is then sent through as it is."""
    try:
        return layer.__dict__["_inventory_route"]
    except KeyError:
        pass
    route = None
    serializer = getattr(layer, "_serializer", None) if _is_pubsub(layer) else None
    if (
        isinstance(serializer, MsgPackSerializer)
        and serializer.crypter is None
        and not serializer.random_prefix_length
    ):
        hosts = tuple(decode_hosts(layer._kwargs.get("hosts")))
        if all("address" in host or "host" in host for host in hosts):
            prefix = layer._kwargs.get("prefix", "asgi")
            route = _Route(key=repr((prefix, hosts)), prefix=prefix, hosts=hosts)
    layer.__dict__["_inventory_route"] = route
    return route


def _is_pubsub(layer) -> bool:
    # Through the class: the layer answers unknown attributes by starting a loop layer.
    return isinstance(layer, RedisPubSubChannelLayer)


class _Publisher:
    """A daemon thread that owns this process's Redis connections and sends what the
    requests hand over after their commits, in the order they committed."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.queue: queue.Queue = queue.Queue(QUEUE_SIZE)
        self.clients: dict[tuple[str, int], redis.Redis] = {}
        self.scripts: dict[tuple[str, int], Any] = {}
        self.thread = threading.Thread(target=self._run, name="realtime-publisher", daemon=True)
        self.thread.start()

    def submit(self, route: _Route, item: tuple) -> None:
        try:
            self.queue.put_nowait((route, item))
        except queue.Full:
            dropped = len(item[1]) if item[0] == "events" else 1
            EVENTS_DROPPED.labels("queue_full").inc(dropped)
            outage.warn(
                logger, "realtime-queue", "Live events are dropped: %d wait for Redis", QUEUE_SIZE
            )

    def flush(self, timeout: float) -> bool:
        with self.queue.all_tasks_done:
            return self.queue.all_tasks_done.wait_for(
                lambda: not self.queue.unfinished_tasks, timeout
            )

    def _run(self) -> None:
        while True:
            batch = [self.queue.get()]
            size = _size(batch[0][1])
            while size < BATCH_SIZE:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
                size += _size(batch[-1][1])
            try:
                self._send(batch)
            except Exception:
                # A bug, not Redis (``_call`` takes those): the thread must live on.
                EVENTS_DROPPED.labels("error").inc(size)
                logger.exception("Could not publish %d live events", size)
            finally:
                for _ in batch:
                    self.queue.task_done()

    def _send(self, batch: list[tuple[_Route, tuple]]) -> None:
        # Consecutive events of one route and shard go in one call; an access notice (rare)
        # goes on its own, after what came before it.
        calls: list[tuple[_Route, int, list, list]] = []
        for route, item in batch:
            if item[0] == "message":
                self._flush_calls(calls)
                group_channel = route.group_channel(item[1])
                self._call(route, route.shard(group_channel), [], [], item[2], group_channel)
                continue
            for stamped in item[1]:
                group = _group_of(stamped)
                channel = route.group_channel(group)
                shard = route.shard(channel)
                if not calls or calls[-1][0].key != route.key or calls[-1][1] != shard:
                    self._flush_calls(calls)
                    calls = [(route, shard, [], [])]
                keys, args = calls[-1][2], calls[-1][3]
                keys.append(route.version_key(group))
                args.extend(_wire_parts(stamped, channel))
        self._flush_calls(calls)

    def _flush_calls(self, calls: list) -> None:
        for route, shard, keys, args in calls:
            self._call(route, shard, keys, args)
        calls.clear()

    def _call(self, route, shard, keys, args, message=None, channel=None) -> None:
        count = len(keys) if message is None else 1
        try:
            client = self._client(route, shard)
            if message is None:
                self.scripts[(route.key, shard)](keys=keys, args=args)
            else:
                layer_message = msgpack.packb(message)
                client.publish(channel, layer_message)
        except Exception as exc:
            EVENTS_DROPPED.labels("unreachable" if outage.is_outage(exc) else "error").inc(count)
            # An outage becomes one WARNING line a minute (the logger's filter).
            logger.exception("Could not publish %d live events", count)
        else:
            EVENTS_PUBLISHED.inc(count)

    def _client(self, route: _Route, shard: int) -> redis.Redis:
        client = self.clients.get((route.key, shard))
        if client is None:
            options = {
                "socket_connect_timeout": 1,
                "socket_timeout": SOCKET_TIMEOUT,
                # Once more on a fresh connection: the kept one may have died with a restart.
                "retry": Retry(NoBackoff(), 1),
                "client_name": f"inventory-publisher-{self.pid}",
                **route.hosts[shard],
            }
            address = options.pop("address", None)
            client = redis.Redis.from_url(address, **options) if address else redis.Redis(**options)
            self.clients[(route.key, shard)] = client
            self.scripts[(route.key, shard)] = client.register_script(_PUBLISH_SCRIPT)
        return client


def _size(item: tuple) -> int:
    return len(item[1]) if item[0] == "events" else 1


_HEAD = b"".join(msgpack.packb(part) for part in ("type", EVENT_HANDLER, "event_type"))


def _wire_parts(stamped: dict, channel: str) -> tuple[str, bytes, str]:
    """The script's arguments for one event: what ``event_message`` of it, numbered,
    packs to, but for the version, which only Redis knows."""
    head = b"\x84" + _HEAD + msgpack.packb(stamped["type"])
    head += msgpack.packb("branch") + msgpack.packb(stamped["branch"]) + msgpack.packb("text")
    # json.dumps({**stamped, "version": n}) but for n and the closing brace.
    return channel, head, json.dumps(stamped)[:-1] + ', "version": '


_publisher: _Publisher | None = None
_publisher_lock = threading.Lock()


def _get_publisher() -> _Publisher:
    """This process's publisher, started on first use: in a forked worker (gunicorn, Celery),
    not in the parent that forked it."""
    global _publisher
    publisher = _publisher
    if publisher is not None and publisher.pid == os.getpid():
        return publisher
    with _publisher_lock:
        if _publisher is None or _publisher.pid != os.getpid():
            _publisher = _Publisher()
        return _publisher


def _forget_publisher() -> None:
    # The child of a fork has neither the parent's thread nor a right to its connections.
    global _publisher, _publisher_lock
    _publisher, _publisher_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_publisher)
# What the requests handed over goes out before the process ends, if Redis answers soon.
atexit.register(flush, 2.0)


# Tickets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ticket:
    value: str
    expires_in: int


def issue_ticket(user_id: uuid.UUID | str) -> Ticket:
    """A ticket that opens one websocket as ``user_id`` within ``WS_TICKET_SECONDS``."""
    value = secrets.token_urlsafe(32)
    cache.set(_ticket_key(value), str(user_id), timeout=settings.WS_TICKET_SECONDS)
    return Ticket(value=value, expires_in=settings.WS_TICKET_SECONDS)


def redeem_ticket(value: str) -> str | None:
    """The user id the ticket was issued to, once: it is spent whether or not the user
    may still connect. None for an unknown, spent or expired ticket."""
    if not value or len(value) > 100:
        return None
    key = _ticket_key(value)
    user_id = cache.get(key)
    # Deleting is the atomic step: of two connections racing with one ticket, one wins.
    if user_id is None or not cache.delete(key):
        return None
    return user_id


def _ticket_key(value: str) -> str:
    return "realtime:ticket:" + hashlib.sha256(value.encode()).hexdigest()
