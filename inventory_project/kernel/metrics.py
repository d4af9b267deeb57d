"""The process's own Prometheus metrics: counters the apps and Celery move, and the
database query counts.

Apps count through the helpers here (the kernel is the one part of ``inventory_project``
they may import); ``inventory_project.metrics`` connects the signals that feed them and
answers ``/metrics``. With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn's processes, a Celery
worker's pool) prometheus_client keeps every value in a file of that directory, and a scrape
adds up the files of every process.
"""

import os
import time
from collections import Counter as Tally
from typing import Any

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django_prometheus.db import (
    connections_total,
    errors_total,
    execute_many_total,
    execute_total,
    query_duration_seconds,
)
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess

MOVEMENTS = Counter(
    "inventory_stock_movements_total",
    "Stock movements committed, by kind and branch (the branch's id; see inventory_branch_info).",
    ["kind", "branch"],
)
ALERT_MAIL = Counter(
    "inventory_alert_mail_total",
    "Alert e-mail tasks finished, by outcome: the alert's mail status afterwards (SENT, "
    "SKIPPED), missing (the alert is gone) or failed (retries exhausted or an error).",
    ["outcome"],
)
ALERT_MAIL_RETRIES = Counter(
    "inventory_alert_mail_retries_total",
    "Alert e-mails put back for another try: the mail server failed, or another worker held it.",
)
CELERY_TASKS = Counter(
    "inventory_celery_tasks_total",
    "Celery tasks run, by task name and outcome (success, failure, retry, rejected, revoked).",
    ["task", "outcome"],
)
CELERY_TASK_SECONDS = Histogram(
    "inventory_celery_task_duration_seconds",
    "How long Celery tasks ran, by task name.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 90),
)

# The Celery tasks whose outcome is an alert e-mail's.
ALERT_MAIL_TASK = "alerts.tasks.send_alert_email"


def multiprocess_dir() -> str | None:
    """The directory prometheus_client shares values through, when set."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def process_registry() -> CollectorRegistry:
    """Every metric of this process, or with ``PROMETHEUS_MULTIPROC_DIR`` of every process
    writing to that directory."""
    from prometheus_client import REGISTRY

    if not multiprocess_dir():
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def process_exited(pid: int) -> None:
    """Forget an exited process's live gauges (its counters stay counted)."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)


# Stock movements ---------------------------------------------------------------------------


class _MovementTally:
    """Movements of one transaction level, counted once it commits."""

    def __init__(self) -> None:
        self.counts: Tally[tuple[str, str]] = Tally()

    def __call__(self) -> None:
        for (kind, branch), count in self.counts.items():
            MOVEMENTS.labels(kind, branch).inc(count)


def count_movement(*, kind: str, branch: Any) -> None:
    """Count a movement of ``kind`` at ``branch`` once the current transaction commits (not
    at all if it rolls back). One callback per transaction level, however many movements:
    an import of 100,000 rows registers one."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        MOVEMENTS.labels(str(kind), str(branch)).inc()
        return
    level = set(connection.savepoint_ids)
    held = getattr(connection, "_inventory_movement_tally", None)
    # Django drops the callbacks of a savepoint rolled back, and all of them after a commit
    # or a rollback: a tally no longer among them is not reused.
    if held is None or held[0] != level or held not in connection.run_on_commit:
        transaction.on_commit(_MovementTally(), robust=True)
        held = connection.run_on_commit.pop()
        # Before the same level's last callback: the live events' outbox looks only at the
        # last one to gather a transaction's events into one.
        at = len(connection.run_on_commit)
        if at and connection.run_on_commit[-1][0] == held[0]:
            at -= 1
        connection.run_on_commit.insert(at, held)
        connection._inventory_movement_tally = held
    held[1].counts[(str(kind), str(branch))] += 1


# Celery --------------------------------------------------------------------------------------

_started: dict[str, float] = {}


def task_started(task_id: str) -> None:
    _started[task_id] = time.monotonic()


def task_ended(task_name: str, task_id: str) -> None:
    started = _started.pop(task_id, None)
    if started is not None:
        CELERY_TASK_SECONDS.labels(task_name).observe(time.monotonic() - started)


def count_task(task_name: str, outcome: str, result: Any = None) -> None:
    """Count a Celery task's outcome; an alert e-mail's by the status it ended in."""
    CELERY_TASKS.labels(task_name, outcome).inc()
    if task_name != ALERT_MAIL_TASK:
        return
    if outcome == "retry":
        ALERT_MAIL_RETRIES.inc()
    elif outcome == "success":
        ALERT_MAIL.labels(str(result)).inc()
    elif outcome == "failure":
        ALERT_MAIL.labels("failed").inc()


# Database queries ----------------------------------------------------------------------------


def _count_query(execute, sql, params, many, context):
    connection = context["connection"]
    alias, vendor = connection.alias, connection.vendor
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    except Exception as error:
        errors_total.labels(alias, vendor, type(error).__name__).inc()
        raise
    finally:
        query_duration_seconds.labels(alias, vendor).observe(time.perf_counter() - started)
        if many:
            rows = len(params) if hasattr(params, "__len__") else 1
            execute_total.labels(alias, vendor).inc(rows)
            execute_many_total.labels(alias, vendor).inc(rows)
        else:
            execute_total.labels(alias, vendor).inc()


def count_queries(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """On each new database connection (``connection_created``): count its queries under
    django-prometheus's names, whatever the backend (ours wraps Django's PostgreSQL one)."""
    connections_total.labels(connection.alias, connection.vendor).inc()
    if _count_query not in connection.execute_wrappers:
        # First: a wrapper pushed by ``connection.execute_wrapper()`` pops the last one.
        connection.execute_wrappers.insert(0, _count_query)
