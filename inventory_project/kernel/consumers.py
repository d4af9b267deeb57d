"""The one websocket, ``/ws/inventory/``: live events of the branches a user may view.

A browser is known by its session cookie (and must come from an allowed origin); a phone
or scanner by a single-use ticket from ``POST /api/v1/realtime/tickets/`` passed as
``?ticket=``. The connection follows every branch the permission module lets the user
view, or the subset the client subscribes to, and follows changes of those rights while
it is open.

Client messages are JSON objects: ``{"type": "ping"}``, and ``{"type": "subscribe" |
"unsubscribe", "branches": [id, ...]}``. A message that is not understood, or asks for a
branch the user may not view, gets an error frame; the connection stays open.
"""

import contextlib
import functools
import json
import logging
import uuid
import weakref
from datetime import UTC, datetime
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser

from inventory_project.kernel import access, events, outage, realtime

logger = logging.getLogger(__name__)

MAX_FRAME_CHARACTERS = 4096
MAX_BRANCHES_PER_MESSAGE = 200

# The scope key of the server's own ASGI send, when the application puts it there (asgi.py).
SERVER_SEND = "inventory.server_send"

# Close codes, in the 4000-4999 range left to applications.
NOT_AUTHENTICATED = 4401
ACCESS_REVOKED = 4403
# Redis, which carries the events, is unreachable: the client reconnects in a moment.
# (Not 1011: autobahn, under daphne, lets a server send only 1000 and 3000-4999.)
UNAVAILABLE = 4503
# The server stops (a deploy, a scale-in): reconnect at once, to another replica. RFC 6455's
# "service restart", sent past autobahn's check as daphne sends its own 1011.
SERVICE_RESTART = 1012
# How long a stopping server waits for its clients to answer the close frames.
CLOSE_HANDSHAKE_SECONDS = 3.0


class InventoryConsumer(AsyncWebsocketConsumer):
    user: AbstractBaseUser | None = None
    permitted: frozenset[str] = frozenset()
    following: set[str] = frozenset()
    held: list[dict] | None = None
    listening = False
    counted = False
    handshake_received = False
    accepted = False

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except outage.OUTAGE_ERRORS as exc:
            # The channel layer refused even the socket's own channel, before any handler
            # ran: say so in a close frame rather than fail the handshake with a 500.
            self.base_send = send
            if not self.handshake_received and (await receive())["type"] != "websocket.connect":
                return
            await self._unavailable(exc)

    async def websocket_connect(self, message: dict) -> None:
        self.handshake_received = True
        await super().websocket_connect(message)

    async def accept(self, subprotocol=None, headers=None) -> None:
        await super().accept(subprotocol, headers)
        self.accepted = True

    async def connect(self) -> None:
        try:
            await self._open()
        except outage.OUTAGE_ERRORS as exc:
            await self._unavailable(exc)

    async def _open(self) -> None:
        self.following = set()
        self.user = await self._authenticate()
        if self.user is None:
            # Accepted only to say why, then closed: the client sees the code, not a 403.
            await self.accept()
            await self._error("not_authenticated", "Sign in, or open the socket with a ticket.")
            await self.close(code=NOT_AUTHENTICATED)
            return
        self.permitted = await self._permitted_branches()
        self.following = set(self.permitted)
        self.event_send = self.scope.get(SERVER_SEND) or self.base_send
        # Events that arrive before the welcome wait for it, in order.
        self.held = []
        self._listen()
        await self._join(self._groups(self.following))
        await self.accept()
        _closed_on_shutdown(self, self.base_send, self.scope.get(SERVER_SEND))
        realtime.OPEN_CONNECTIONS.inc()
        self.counted = True
        await self._send(
            events.Welcome(user=self.user.pk, branches=sorted(self.following), at=_now())
        )
        while self.held:
            await self.inventory_event(self.held.pop(0))
        self.held = None

    async def disconnect(self, code: int) -> None:
        _SOCKETS.pop(self, None)
        self._unlisten()
        if self.counted:
            realtime.OPEN_CONNECTIONS.dec()
            self.counted = False
        if self.user is not None:
            # Redis, if unreachable, loses the subscriptions with the connection anyway.
            with contextlib.suppress(*outage.OUTAGE_ERRORS):
                await self._leave(self._groups(self.following))

    async def _unavailable(self, exc: BaseException) -> None:
        outage.warn(logger, "websocket", "Websockets are refused: Redis is unreachable (%s)", exc)
        if self.counted:
            realtime.OPEN_CONNECTIONS.dec()
            self.counted = False
        if not self.accepted:
            await self.accept()
        await self._error("unavailable", "Live updates are unavailable; reconnect in a moment.")
        await self.close(code=UNAVAILABLE)

    # From the client ---------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        if text_data is None:
            return await self._error("not_text", "Send JSON text frames, not binary ones.")
        if len(text_data) > MAX_FRAME_CHARACTERS:
            return await self._error(
                "too_large", f"A message takes at most {MAX_FRAME_CHARACTERS} characters."
            )
        try:
            message = json.loads(text_data)
        except ValueError:
            return await self._error("not_json", "A message is a JSON object.")
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return await self._error("invalid", 'A message is a JSON object with a "type".')
        handler = {
            "ping": self._ping,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
        }.get(message["type"])
        if handler is None:
            return await self._error(
                "unknown_type",
                f"Unknown message type {message['type'][:50]!r}: ping, subscribe or unsubscribe.",
            )
        await handler(message)

    async def _ping(self, message: dict) -> None:
        await self._send(events.Pong(at=_now()))

    async def _subscribe(self, message: dict) -> None:
        branches = await self._branches_of(message)
        if branches is None:
            return
        added = branches - self.following
        await self._join([realtime.branch_group(branch) for branch in added])
        self.following |= added
        await self._send_following()

    async def _unsubscribe(self, message: dict) -> None:
        branches = await self._branches_of(message)
        if branches is None:
            return
        removed = branches & self.following
        await self._leave([realtime.branch_group(branch) for branch in removed])
        self.following -= removed
        await self._send_following()

    async def _branches_of(self, message: dict) -> set[str] | None:
        """The branch ids of a (un)subscribe message, every one of which the user may view;
        else None, after an error frame: nothing changes then."""
        raw = message.get("branches")
        if not isinstance(raw, list) or not raw or len(raw) > MAX_BRANCHES_PER_MESSAGE:
            await self._error(
                "invalid", f'"branches" is a list of 1 to {MAX_BRANCHES_PER_MESSAGE} branch ids.'
            )
            return None
        ids = {_branch_id(value): value for value in raw}
        unknown = [str(value)[:50] for id, value in ids.items() if id not in self.permitted]
        if unknown:
            # Another branch's id answers as an unknown one does: nothing to learn from it.
            await self._error("not_found", f"No branch you may view with id {', '.join(unknown)}.")
            return None
        return set(ids)

    # From the server ---------------------------------------------------------------------

    async def dispatch(self, message: dict) -> None:
        if message["type"] == realtime.EVENT_HANDLER:
            # Passing an event on touches no database: skip the stale-connection check
            # channels makes before each message, a hop to the database thread per socket
            # per event that made a 1,000-socket fan-out take most of a second.
            return await self.inventory_event(message)
        return await super().dispatch(message)

    def _listen(self) -> None:
        # The Redis layer hands events straight to ``_event_arrived`` (one task passing an
        # event to every socket of the process); other layers queue them for ``dispatch``.
        listen = getattr(type(self.channel_layer), "listen", None)
        if listen is not None:
            listen(self.channel_layer, self.channel_name, self._event_arrived)
            self.listening = True

    def _unlisten(self) -> None:
        if self.listening:
            self.listening = False
            type(self.channel_layer).unlisten(self.channel_layer, self.channel_name)

    async def _event_arrived(self, message: dict) -> bool:
        """An event from the layer (anything else goes to ``dispatch``); taken."""
        if message["type"] != realtime.EVENT_HANDLER:
            return False
        if self.held is not None:
            self.held.append(message)
        elif message["branch"] is None or message["branch"] in self.following:
            # inventory_event, inlined: this runs once per socket per event.
            await self.event_send({"type": "websocket.send", "text": message["text"]})
            _sent(message["event_type"]).inc()
        return True

    async def inventory_event(self, message: dict) -> None:
        """An event of a followed branch (or of the catalog): pass it on, as the text
        written once for every socket."""
        if message["branch"] is not None and message["branch"] not in self.following:
            return  # in flight while the client unsubscribed
        await self.event_send({"type": "websocket.send", "text": message["text"]})
        _sent(message["event_type"]).inc()

    async def access_changed(self, message: dict) -> None:
        """The user's rights changed: follow exactly what they may view now."""
        user = await database_sync_to_async(
            get_user_model().objects.filter(pk=self.user.pk).first
        )()
        if user is None or not user.is_active:
            await self._error("access_revoked", "Your account was deactivated.")
            await self.close(code=ACCESS_REVOKED)
            return
        self.user = user
        permitted = await self._permitted_branches()
        gained, lost = permitted - self.permitted, self.permitted - permitted
        await self._leave([realtime.branch_group(branch) for branch in lost & self.following])
        await self._join([realtime.branch_group(branch) for branch in gained])
        self.permitted = permitted
        self.following = (self.following - lost) | gained
        await self._send_following()

    # Helpers -----------------------------------------------------------------------------

    async def _authenticate(self) -> AbstractBaseUser | None:
        session_user = self.scope.get("user")
        if session_user is not None and session_user.is_authenticated:
            return session_user if session_user.is_active else None
        ticket = parse_qs(self.scope.get("query_string", b"").decode("latin1")).get("ticket")
        if not ticket:
            return None
        return await database_sync_to_async(_ticket_user)(ticket[0])

    async def _permitted_branches(self) -> frozenset[str]:
        return await database_sync_to_async(access.visible_branch_ids)(self.user)

    def _groups(self, branches) -> list[str]:
        return [
            *(realtime.branch_group(branch) for branch in branches),
            realtime.user_group(self.user.pk),
            realtime.CATALOG_GROUP,
        ]

    async def _join(self, groups: list[str]) -> None:
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)

    async def _leave(self, groups: list[str]) -> None:
        for group in groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _send_following(self) -> None:
        await self._send(events.Subscribed(branches=sorted(self.following)))

    async def _send(self, frame: events.Frame) -> None:
        await self.send(text_data=frame.model_dump_json())

    async def _error(self, code: str, message: str) -> None:
        await self._send(events.Error(code=code, message=message))


@functools.cache
def _sent(event_type: str):
    return realtime.EVENTS_SENT.labels(event_type)


# Graceful shutdown under daphne ---------------------------------------------------------------
#
# On SIGTERM twisted fires its "before shutdown" triggers, then drops every connection: the
# clients would see 1006 (abnormal closure) and back off before reconnecting. Instead the
# server stops listening (a load balancer sends a new connection to another replica), tells
# every open socket 1012 and waits, briefly, for the close handshakes.

_SOCKETS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # consumer -> protocol
_shutdown_trigger_added = False


def _closed_on_shutdown(consumer: InventoryConsumer, *sends) -> None:
    """Note the daphne protocol behind this socket's ``send`` (a partial of daphne's
    ``handle_reply`` with it); nothing under other servers."""
    global _shutdown_trigger_added
    for send in sends:
        protocol = next(iter(getattr(send, "args", ())), None)
        if hasattr(protocol, "sendCloseFrame"):
            break
    else:
        return
    _SOCKETS[consumer] = protocol
    if not _shutdown_trigger_added:
        from twisted.internet import reactor  # daphne's asyncio reactor, running already

        reactor.addSystemEventTrigger("before", "shutdown", _close_for_restart, reactor)
        _shutdown_trigger_added = True


def _close_for_restart(reactor):
    from twisted.internet import defer, tcp

    for reader in reactor.getReaders():
        if isinstance(reader, tcp.Port):
            reader.stopListening()
    closing = []
    for consumer, protocol in list(_SOCKETS.items()):
        # No more events for it: the close frame is the last thing it is sent.
        consumer._unlisten()
        if protocol.state == protocol.STATE_OPEN:
            protocol.sendCloseFrame(code=SERVICE_RESTART, reasonUtf8=b"service restart")
            closing.append(protocol)
    logger.info("Stopping: %d websockets told to reconnect (1012)", len(closing))
    if not closing:
        return None
    done = defer.Deferred()
    deadline = reactor.seconds() + CLOSE_HANDSHAKE_SECONDS

    def check():
        if reactor.seconds() >= deadline or all(
            protocol.state == protocol.STATE_CLOSED for protocol in closing
        ):
            done.callback(None)
        else:
            reactor.callLater(0.05, check)

    check()
    return done


def _ticket_user(ticket: str) -> AbstractBaseUser | None:
    user_id = realtime.redeem_ticket(ticket)
    if user_id is None:
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def _branch_id(value: object) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def _now() -> str:
    return datetime.now(UTC).isoformat()
