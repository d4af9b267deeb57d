"""Log lines that can be followed from a request to everything it caused.

Every request has an id: the one in its ``X-Request-ID`` header when that is well-formed
(nginx or a load balancer in front sets it), otherwise a new one (a uuid4 in hex). It is
kept in a context variable for the request's duration, sent back in the response's
``X-Request-ID`` header, written on every log line, carried in the headers of each Celery
task the request queues (the worker's lines for that task carry it too) and logged with
the live events the request published.

``JsonFormatter`` writes one JSON object per line: ``time``, ``level``, ``logger``,
``message``, ``request_id``, whatever the call passed in ``extra`` (a request's ``method``,
``path``, ``status``, ``duration_ms`` and ``user_id``), the task (``task_id``,
``task_name``) in a worker, and the traceback as ``exception``. ``RequestIdFilter`` gives the
plain text format its ``%(request_id)s``.
"""

import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

REQUEST_ID_HEADER = "X-Request-ID"
# What an incoming id may look like: a uuid, nginx's $request_id (32 hex digits), a
# balancer's trace id. Anything else (too long, spaces, quotes, control characters) is
# replaced, so a client cannot write what it likes into the logs.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_task: ContextVar[tuple[str, str] | None] = ContextVar("celery_task", default=None)


def current_request_id() -> str | None:
    """The id of the request (or of the request that queued the task) being served."""
    return _request_id.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def well_formed(value: str | None) -> bool:
    return bool(value) and _WELL_FORMED.fullmatch(value) is not None


def request_id_from(header: str | None) -> str:
    """The incoming header's id when it is well-formed, else a new one."""
    return header if well_formed(header) else new_request_id()


@contextmanager
def bound_request_id(value: str | None) -> Iterator[str | None]:
    """Log (and propagate) ``value`` as the request id within the block."""
    token = _request_id.set(value)
    try:
        yield value
    finally:
        _request_id.reset(token)


# Celery: the id travels in the task message's headers ----------------------------------

HEADER = "request_id"
_task_tokens: dict[str, tuple[Token, Token]] = {}


def add_request_id_header(headers: dict | None = None, **kwargs: Any) -> None:
    """``before_task_publish``: a task queued while serving a request carries its id."""
    value = _request_id.get()
    if headers is not None and value is not None:
        headers.setdefault(HEADER, value)


def restore_request_id(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """``task_prerun``: the task's lines carry the id of the request that queued it. A task
    run eagerly, in the request itself, keeps the request's id."""
    if task is None or task_id is None:
        return
    value = getattr(task.request, HEADER, None) or (task.request.headers or {}).get(HEADER)
    if not well_formed(value):
        value = _request_id.get()
    _task_tokens[task_id] = (_request_id.set(value), _task.set((task_id, task.name)))


def forget_request_id(task_id: str | None = None, **kwargs: Any) -> None:
    """``task_postrun``: back to what the process logged before the task."""
    tokens = _task_tokens.pop(task_id, None) if task_id is not None else None
    if tokens is not None:
        _task.reset(tokens[1])
        _request_id.reset(tokens[0])


# Formatting -------------------------------------------------------------------------------

# What every LogRecord has; anything else on a record came from ``extra``.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        if request_id in (None, "-"):
            request_id = _request_id.get()
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id,
        }
        task = _task.get()
        if task is not None:
            line["task_id"], line["task_name"] = task
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)
