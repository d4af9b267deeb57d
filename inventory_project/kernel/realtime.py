"""Live updates: the events every open websocket of a branch receives, and how they are sent.

Services publish their own events with ``publish``, each declared once with its typed data
in the catalogue (``inventory_project.kernel.events``): nothing is sent before the
transaction commits, and nothing at all when it rolls back. The events of one transaction
go out together, in order, through the channel layer (Redis with ``REDIS_URL``, so every
server process gets them), to the group of the branch they concern. Each event carries a
per-branch ``version``: a client that sees a number skipped knows it missed something and
refetches through the API.

Mobile clients open the socket with a short-lived, single-use ticket obtained through the
token-authenticated API; only its digest is kept, in the cache.
"""

import hashlib
import json
import logging
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from prometheus_client import Counter, Gauge

from inventory_project.kernel.events import Event, catalogue

logger = logging.getLogger(__name__)

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
        try:
            messages = []
            for item in self.events:
                group = branch_group(item["branch"]) if item["branch"] else CATALOG_GROUP
                stamped = {**item, "version": _next_version(group)}
                messages.append((group, event_message(stamped)))
            async_to_sync(_send_all)(messages)
        except Exception:
            # The change is committed; a client that missed the event refetches on the gap.
            logger.exception("Could not publish %d live events", len(self.events))


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
    transaction.on_commit(
        lambda: async_to_sync(_send_all)([(user_group(user_id), message)]), robust=True
    )


async def _send_all(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    for group, message in messages:
        await layer.group_send(group, message)


def _next_version(group: str) -> int:
    """The group's next event number, shared by every process through the cache (Redis
    with ``REDIS_URL``)."""
    key = f"realtime:version:{group}"
    try:
        return cache.incr(key)
    except ValueError:
        cache.add(key, 0, timeout=None)
        return cache.incr(key)


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
