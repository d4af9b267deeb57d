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
    if not _due(subject):
        return False
    logger.warning(message, *args)
    return True


def _due(subject: str) -> bool:
    """Is a warning about ``subject`` due (none within the last minute)? Counts it if so."""
    now = time.monotonic()
    with _lock:
        last = _last_warned.get(subject)
        if last is not None and now - last < WARN_EVERY_SECONDS:
            return False
        _last_warned[subject] = now
    return True


class OutageLogFilter(logging.Filter):
    """For loggers that log every failure with its traceback (the publisher after commit,
    channels-redis' receiving loop, which retries every second): a Redis outage becomes
    one WARNING line a minute per logger, naming the error; anything else passes as it is."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or not is_outage(exc):
            return True
        if not _due(record.name):
            return False
        record.msg, record.args = f"{record.getMessage()}: Redis is unreachable ({exc})", ()
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
        return True
