"""Request rates per user and per anonymous client address.

Kept apart from ``inventory_project.kernel.api``: DRF reads DEFAULT_THROTTLE_CLASSES while its own
views module is being imported, so these classes must not import that module.
"""

import logging
import time

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
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


class UserThrottle(_SettingsRate, UserRateThrottle):
    """Requests per signed-in user (``API_USER_RATE``)."""


class AnonymousThrottle(_SettingsRate, AnonRateThrottle):
    """Requests per client address without credentials (``API_ANON_RATE``)."""

    def get_ident(self, request) -> str:
        # The same client address as the sign-in lockout: X-Real-IP only behind our proxy.
        return get_client_ip_address(request._request) or "unknown"
