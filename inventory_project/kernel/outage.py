"""Redis is a convenience here, never a dependency of a stock write or a sign-in.

What lives in Redis (request rate counters, live-event numbers and tickets, the channel
layer, the Celery queue) degrades when it is unreachable: rates are counted per process,
live events are skipped (clients see the gap in ``version`` and refetch), a ticket is
refused with 503. These helpers tell such an outage from a bug and say so in the log at
WARNING, at most once a minute per subject rather than once per request.
"""

import logging
import threading
import time

from redis import exceptions as redis_exceptions

# Redis not answering, or dropping the connection; not a wrong command (a bug).
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    redis_exceptions.ConnectionError,
    redis_exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)

WARN_EVERY_SECONDS = 60.0

_last_warned: dict[str, float] = {}
_lock = threading.Lock()


def is_outage(exc: BaseException) -> bool:
    return isinstance(exc, OUTAGE_ERRORS)


def warn(logger: logging.Logger, subject: str, message: str, *args: object) -> bool:
    """Log ``message`` at WARNING unless ``subject`` was warned of within the last minute;
    whether it was logged."""
    now = time.monotonic()
    with _lock:
        last = _last_warned.get(subject)
        if last is not None and now - last < WARN_EVERY_SECONDS:
            return False
        _last_warned[subject] = now
    logger.warning(message, *args)
    return True
