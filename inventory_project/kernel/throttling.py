"""Request rates per user and per anonymous client address.

Kept apart from ``inventory_project.kernel.api``: DRF reads DEFAULT_THROTTLE_CLASSES while its own
views module is being imported, so these classes must not import that module.
"""

from axes.helpers import get_client_ip_address
from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class _SettingsRate:
    """Reads the rate from ``settings.API_THROTTLE_RATES`` on each request, so that it is
    configured in one place and can be changed without re-importing the class."""

    scope: str

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope)


class UserThrottle(_SettingsRate, UserRateThrottle):
    """Requests per signed-in user (``API_USER_RATE``)."""


class AnonymousThrottle(_SettingsRate, AnonRateThrottle):
    """Requests per client address without credentials (``API_ANON_RATE``)."""

    def get_ident(self, request) -> str:
        # The same client address as the sign-in lockout: X-Real-IP only behind our proxy.
        return get_client_ip_address(request._request) or "unknown"
