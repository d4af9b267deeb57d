"""channels-redis' publish/subscribe layer, reconnecting after Redis restarted.

Its connection to Redis outlives a Redis restart as a dead socket; the next operation on it
fails (``Connection lost``) and only then is it dropped, so the first websocket opened
after the restart in a process that had none open used to fail its handshake. Each
operation here is tried once more after a connection error, which opens a fresh
connection (and subscribes again to what the process follows); if Redis is really gone the
second error is raised to the caller.
"""

import logging

from channels_redis.pubsub import RedisPubSubChannelLayer

from inventory_project.kernel import outage

logger = logging.getLogger(__name__)


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
