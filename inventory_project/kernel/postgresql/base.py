"""Django's PostgreSQL backend with a health check that costs nothing under load.

With ``CONN_HEALTH_CHECKS`` Django pings a persistent connection (``SELECT 1``) before the
first query of every request: one more round trip per request. Here a connection that ran
a query within the last ``DATABASE_HEALTH_CHECK_IDLE`` seconds is trusted without the
ping; one idle for longer is pinged as before. A connection that breaks in between (the
server restarted under load) fails the request using it, and Django, which checks a
connection after any error at the end of the request, replaces it for the next one.
"""

import time

from django.conf import settings
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    _used_at = float("-inf")

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and not self.health_check_done
            and time.monotonic() - self._used_at < settings.DATABASE_HEALTH_CHECK_IDLE
        ):
            self.health_check_done = True
        super().close_if_health_check_failed()

    def create_cursor(self, name=None):
        self._used_at = time.monotonic()
        return super().create_cursor(name)

    def close(self) -> None:
        self._used_at = float("-inf")
        super().close()
