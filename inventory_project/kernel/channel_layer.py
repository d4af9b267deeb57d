"""channels-redis' publish/subscribe layer, reconnecting after Redis restarted.

Its connection to Redis outlives a Redis restart as a dead socket; the next operation on it
fails (``Connection lost``) and only then is it dropped, so the first websocket opened
after the restart in a process that had none open used to fail its handshake. Each
operation here is tried once more after a connection error, which opens a fresh
connection (and subscribes again to what the process follows); if Redis is really gone the
second error is raised to the caller.

A message from Redis is also decoded once, not once per channel of the process that gets
it, and handed to channels that have a listener (``listen``: the websocket consumers, for
their live events) by one task in turn, rather than queued to each consumer's task: a
1,000-socket fan-out is then one pass over the sockets, not 1,000 wake-ups.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close

from inventory_project.kernel import outage

logger = logging.getLogger(__name__)

Listener = Callable[[dict], Awaitable[bool]]

# Sockets written between two turns of the event loop, which sends what was written: the
# first clients have their frame before the last ones are written to.
DELIVERY_SLICE = 100


class ReconnectingPubSubChannelLayer(RedisPubSubChannelLayer):
    async def new_channel(self, prefix: str = "specific.") -> str:
        return await self._once_more("new_channel", prefix)

    async def send(self, channel: str, message: dict) -> None:
        await self._once_more("send", channel, message)

    async def group_add(self, group: str, channel: str) -> None:
        await self._once_more("group_add", group, channel)

    async def group_discard(self, group: str, channel: str) -> None:
        await self._once_more("group_discard", group, channel)

    async def group_send(self, group: str, message: dict) -> None:
        # Should the first attempt have reached Redis before the connection broke, the
        # event arrives twice with the same version; clients go by version.
        await self._once_more("group_send", group, message)

    async def _once_more(self, operation: str, *args: object) -> object:
        # The layer of the running event loop, as the base class's own methods find it.
        try:
            return await getattr(self._get_layer(), operation)(*args)
        except outage.OUTAGE_ERRORS as exc:
            logger.info("Channel layer %s failed (%s); trying once more", operation, exc)
            return await getattr(self._get_layer(), operation)(*args)

    def listen(self, channel: str, listener: Listener) -> None:
        """Hand the messages of ``channel`` (one of this event loop's) to ``listener`` as
        they arrive; a message it does not take (it returns False) is queued for
        ``receive`` as usual."""
        self._get_layer().listeners[channel] = listener

    def unlisten(self, channel: str) -> None:
        self._get_layer().listeners.pop(channel, None)

    def deserialize(self, message: bytes | dict) -> dict:
        # Decoded already, once for every channel of the process it was meant for.
        if isinstance(message, dict):
            return message
        return super().deserialize(message)

    def _get_layer(self) -> "_LoopLayer":
        # As the base class's, with the loop layer below.
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]
        self.listeners: dict[str, Listener] = {}
        self._deliveries: asyncio.Queue = asyncio.Queue()
        self._deliverer: asyncio.Future | None = None

    async def receive(self, channel: str) -> dict:
        try:
            return await super().receive(channel)
        finally:
            if channel not in self.channels:  # given up by its consumer
                self.listeners.pop(channel, None)

    def dispatch(self, targets, data: bytes) -> None:
        """Pass ``data``, a message from Redis, to the local ``targets`` channels."""
        try:
            message = self.channel_layer.deserialize(data)
        except Exception:
            logger.exception("Could not decode a message from Redis")
            return
        listening = []
        for channel in targets:
            queue = self.channels.get(channel)
            if queue is None:
                continue
            listener = self.listeners.get(channel)
            if listener is None:
                queue.put_nowait(message)
            else:
                listening.append((channel, listener))
        if listening:
            self._deliveries.put_nowait((listening, message))
            if self._deliverer is None or self._deliverer.done():
                self._deliverer = asyncio.ensure_future(self._deliver())

    async def _deliver(self) -> None:
        # One task, so that every channel gets the messages in the order they came.
        while True:
            listening, message = await self._deliveries.get()
            for n, (channel, listener) in enumerate(listening, 1):
                try:
                    taken = await listener(message)
                except Exception:
                    logger.exception("A listener failed on a %s message", message.get("type"))
                    continue
                if not taken and channel in self.channels:
                    self.channels[channel].put_nowait(message)
                if n % DELIVERY_SLICE == 0:
                    await asyncio.sleep(0)

    async def flush(self) -> None:
        if self._deliverer is not None:
            self._deliverer.cancel()
            self._deliverer = None
        self.listeners = {}
        self._deliveries = asyncio.Queue()
        await super().flush()


class _Shard(RedisSingleShardConnection):
    def _receive_message(self, message) -> None:
        if message is None:
            return
        name, layer = message["channel"], self.channel_layer
        if isinstance(name, bytes):
            name = name.decode()
        if name in layer.channels:
            layer.dispatch((name,), message["data"])
        elif name in layer.groups:
            layer.dispatch(tuple(layer.groups[name]), message["data"])
