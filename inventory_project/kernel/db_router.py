"""Reads of reports and lists from a PostgreSQL read replica, when there is one.

With ``DATABASE_REPLICA_URL`` set, ``DATABASES["replica"]`` names a streaming replica of
the primary. Nothing reads from it unless it asked to: a view wrapped in ``replica_reads``
(or code inside ``with reading_from_replica():``) sends its reads there; every write, every
read elsewhere and every migration goes to the primary ("default").

A replica lags behind by up to a few seconds, so someone who has just written must not
read from it, or their own change would seem lost: ``RecentWriteMiddleware``
(``inventory_project.kernel.middleware``) marks each write request's response with a
signed ``recent_write`` cookie lasting ``DATABASE_REPLICA_LAG_SECONDS``, and the requests
that carry it read from the primary (``primary_only``). Inside a transaction on the primary
(``atomic()``), reads stay on the primary too: what it wrote so far is not on the replica.

Without a replica configured every read goes to the primary.
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
RECENT_WRITE_COOKIE = "recent_write"

_opted_in: ContextVar[bool] = ContextVar("reading_from_replica", default=False)
_primary_only: ContextVar[bool] = ContextVar("primary_only", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def reading_from_replica() -> Iterator[None]:
    """Reads inside the block may come from the replica (unless the person just wrote)."""
    token = _opted_in.set(True)
    try:
        yield
    finally:
        _opted_in.reset(token)


@contextmanager
def primary_only(active: bool = True) -> Iterator[None]:
    """Every read inside the block comes from the primary, opted in or not."""
    token = _primary_only.set(active or _primary_only.get())
    try:
        yield
    finally:
        _primary_only.reset(token)


def replica_reads(view: Callable) -> Callable:
    """A view whose reads may come from the replica: lists and reports, which may show
    what was true a second ago."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with reading_from_replica():
            return view(*args, **kwargs)

    return wrapped


def reads_from_replica() -> bool:
    """Whether a read made now goes to the replica."""
    return (
        _opted_in.get()
        and not _primary_only.get()
        and replica_configured()
        and not connections[DEFAULT_DB_ALIAS].in_atomic_block
    )


class ReplicaRouter:
    """``DATABASE_ROUTERS``: the replica for reads that opted in, the primary for the rest."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        return REPLICA if reads_from_replica() else DEFAULT_DB_ALIAS

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # One database, two copies of it.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        # The replica follows the primary's schema through replication.
        return db == DEFAULT_DB_ALIAS
