"""Request rates per user and per anonymous client address.

Kept apart from ``inventory_project.kernel.api``: DRF reads DEFAULT_THROTTLE_CLASSES while its own
views module is being imported, so these classes must not import that module.
"""

import logging
import math
import time

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from inventory_project.kernel import outage

logger = logging.getLogger(__name__)

# While the shared counters (Redis) are unreachable, each process counts on its own: the
# limits still hold per process, and no request waits on or fails for Redis. It is asked
# again after this long, so a request pays for a dead Redis at most once in that time.
RETRY_SHARED_SECONDS = 5.0
_local_counts = LocMemCache("inventory-throttling", {"MAX_ENTRIES": 10_000})
_shared_down_until = 0.0


class _SettingsRate:
    """Reads the rate from ``settings.API_THROTTLE_RATES`` on each request, so that it is
    configured in one place and can be changed without re-importing the class; counts in
    this process while the shared counters are unreachable."""

    scope: str

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        global _shared_down_until
        if time.monotonic() >= _shared_down_until:
            try:
                shared = caches["default"]
                if self.rate is not None and isinstance(shared, RedisCache):
                    return self._allow_counted(request, view, shared)
                return super().allow_request(request, view)
            except outage.OUTAGE_ERRORS as exc:
                _shared_down_until = time.monotonic() + RETRY_SHARED_SECONDS
                outage.warn(
                    logger,
                    "throttling",
                    "Request rates are counted per process: the shared counters are "
                    "unreachable (%s)",
                    exc,
                )
        self.cache = _local_counts
        return super().allow_request(request, view)

    def _allow_counted(self, request, view, shared: RedisCache) -> bool:
        """A sliding window estimated from two fixed-window counters in Redis, in one round
        trip: DRF's own throttle reads and rewrites the whole list of request times, twice
        per request. The previous window's count is weighed by how much of it still lies
        within the last ``duration`` seconds, rounded up, so the estimate errs towards
        refusing. Refused requests are not counted."""
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = time.time()
        window, into = divmod(now, self.duration)
        current = shared.make_key(f"{key}:{int(window)}")
        previous = shared.make_key(f"{key}:{int(window) - 1}")
        client = shared._cache.get_client(current, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.incr(current)
        pipe.expire(current, self.duration * 2)
        pipe.get(previous)
        count, _, before = pipe.execute()
        earlier = count - 1 + math.ceil(int(before or 0) * (1 - into / self.duration))
        if earlier < self.num_requests:
            return True
        client.decr(current)
        self._retry_after = self.duration - into
        return False

    def wait(self) -> float | None:
        retry_after = getattr(self, "_retry_after", None)
        return retry_after if retry_after is not None else super().wait()


class UserThrottle(_SettingsRate, UserRateThrottle):
    """Requests per signed-in user (``API_USER_RATE``)."""


class AnonymousThrottle(_SettingsRate, AnonRateThrottle):
    """Requests per client address without credentials (``API_ANON_RATE``)."""

    def get_ident(self, request) -> str:
        # The same client address as the sign-in lockout: X-Real-IP only behind our proxy.
        return get_client_ip_address(request._request) or "unknown"
