"""Retrying transactions that lost a race the database could not settle.

PostgreSQL aborts one of two transactions that deadlock (40P01) or that cannot be
serialized (40001); running the loser again a moment later almost always succeeds. SQLite's
"database is locked" after its busy timeout is the same kind of failure.
"""

import functools
import logging
import random
import time
from collections.abc import Callable

from django.db import OperationalError, connection

from inventory_project.kernel.errors import Unavailable

logger = logging.getLogger(__name__)

TRANSIENT_SQLSTATES = {"40001", "40P01"}
ATTEMPTS = 4
BASE_DELAY = 0.02


class TransientConflict(Unavailable):
    code = "busy"

    def __init__(self, message: str = "The server is busy with the same data; retry shortly."):
        super().__init__(message)


def is_transient(exc: BaseException) -> bool:
    """Is ``exc`` a database conflict that running the transaction again may resolve?"""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    return "database is locked" in str(exc)


def retry_transient[**P, R](function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` (which must open its own transaction) again, after a short random
    pause, when the database aborts it as a deadlock or serialization failure; after
    ``ATTEMPTS`` tries raise TransientConflict (answered 503 with Retry-After)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return function(*args, **kwargs)
            except OperationalError as exc:
                # Inside an outer transaction the whole of it is lost; only its owner retries.
                if not is_transient(exc) or connection.in_atomic_block:
                    raise
                logger.info("Transient database conflict, attempt %d: %s", attempt, exc)
                if attempt == ATTEMPTS:
                    raise TransientConflict() from exc
                # Full jitter: contenders spread out instead of colliding again in step.
                time.sleep(random.uniform(0, BASE_DELAY * 2**attempt))
        raise AssertionError("unreachable")

    return wrapper
