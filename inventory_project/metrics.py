"""``GET /metrics``: the process's metrics (django-prometheus's requests and queries, the
live events, Celery and the kernel's counters) and the inventory's state, counted at scrape.

Who may read it: with ``METRICS_TOKEN`` a scraper sending ``Authorization: Bearer <token>``;
clients in ``METRICS_ALLOWED_NETWORKS`` (CIDRs; the client address is X-Real-IP behind our
proxy, see ``BEHIND_PROXY``); outside production the loopback too, so that ``make run``
shows it. Anyone else gets a 404, as if there were nothing there.
"""

import hmac
import ipaddress
import threading
import time
from collections.abc import Iterable, Iterator

from celery import signals as celery_signals
from django.conf import settings
from django.db.backends.signals import connection_created
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from alerts.models import UNRESOLVED, LowStockAlert
from branches.models import Branch
from inventory_project.kernel import metrics
from stock.models import StockLevel
from stock.signals import stock_level_changed
from transfers.models import UNDER_WAY, Transfer

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


# Who may read it -------------------------------------------------------------------------


def allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = tuple(
        ipaddress.ip_network(cidr, strict=False) for cidr in settings.METRICS_ALLOWED_NETWORKS
    )
    return networks if settings.PRODUCTION else networks + LOOPBACK


def may_read(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
            return True
    meta = ["HTTP_X_REAL_IP", "REMOTE_ADDR"] if settings.BEHIND_PROXY else ["REMOTE_ADDR"]
    address = next((request.META[key] for key in meta if request.META.get(key)), "")
    try:
        client = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    if getattr(client, "ipv4_mapped", None):
        client = client.ipv4_mapped
    return any(client in network for network in allowed_networks())


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not may_read(request):
        raise Http404
    body = generate_latest(metrics.process_registry()) + generate_latest(_inventory_registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


# The inventory's state, counted at scrape -----------------------------------------------------


class InventoryCollector(Collector):
    """Gauges of the whole inventory: four grouped COUNT queries, then kept
    ``METRICS_STATE_SECONDS`` so a scrape every 15 s (from several Prometheus servers,
    or several processes each asked in turn) costs next to nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = float("-inf")
        self._families: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if time.monotonic() >= self._until:
                self._families = list(self._count())
                self._until = time.monotonic() + settings.METRICS_STATE_SECONDS
            yield from self._families

    def forget(self) -> None:
        with self._lock:
            self._until = float("-inf")

    def _count(self) -> Iterable[Metric]:
        info = GaugeMetricFamily(
            "inventory_branch_info",
            "Each branch's code and name, to label the series that name its id.",
            labels=["branch", "code", "name"],
        )
        for branch in Branch.objects.order_by("code").values("pk", "code", "name"):
            info.add_metric([str(branch["pk"]), branch["code"], branch["name"]], 1)
        yield info

        low = GaugeMetricFamily(
            "inventory_stock_levels_below_threshold",
            "Stock levels under their low-stock threshold, by branch.",
            labels=["branch"],
        )
        below = StockLevel.objects.below_threshold().values("branch_id").annotate(n=Count("pk"))
        for row in below.order_by("branch_id"):
            low.add_metric([str(row["branch_id"])], row["n"])
        yield low

        alerts = GaugeMetricFamily(
            "inventory_alerts_open",
            "Low-stock alerts not resolved yet, by branch and status (OPEN, ACKNOWLEDGED).",
            labels=["branch", "status"],
        )
        unresolved = LowStockAlert.objects.filter(status__in=UNRESOLVED)
        for row in unresolved.values("branch_id", "status").annotate(n=Count("pk")).order_by():
            alerts.add_metric([str(row["branch_id"]), row["status"]], row["n"])
        yield alerts

        transit = GaugeMetricFamily(
            "inventory_transfers_in_transit",
            "Transfers shipped and not yet fully received, by destination branch and status.",
            labels=["branch", "status"],
        )
        under_way = Transfer.objects.filter(status__in=UNDER_WAY)
        for row in under_way.values("to_branch_id", "status").annotate(n=Count("pk")).order_by():
            transit.add_metric([str(row["to_branch_id"]), row["status"]], row["n"])
        yield transit


inventory_state = InventoryCollector()
# Apart from the process registry: a Celery worker's exporter serves that one, and must not
# count the inventory.
_inventory_registry = CollectorRegistry(auto_describe=False)
_inventory_registry.register(inventory_state)


# What feeds the counters ------------------------------------------------------------------------


def _movement_committed(sender, level, movement=None, **kwargs) -> None:
    if movement is not None:
        metrics.count_movement(kind=movement.kind, branch=level.branch_id)


def _task_prerun(sender=None, task_id=None, **kwargs) -> None:
    metrics.task_started(task_id)


def _task_postrun(sender=None, task_id=None, **kwargs) -> None:
    metrics.task_ended(sender.name, task_id)


def _task_success(sender=None, result=None, **kwargs) -> None:
    metrics.count_task(sender.name, "success", result)


def _task_failure(sender=None, **kwargs) -> None:
    metrics.count_task(sender.name, "failure")


def _task_retry(sender=None, **kwargs) -> None:
    metrics.count_task(sender.name, "retry")


def _task_rejected(sender=None, message=None, **kwargs) -> None:
    name = getattr(message, "headers", {}).get("task", "unknown") if message else "unknown"
    metrics.count_task(name, "rejected")


def _task_revoked(sender=None, request=None, **kwargs) -> None:
    metrics.count_task(getattr(sender, "name", "unknown"), "revoked")


def connect() -> None:
    """Connect the receivers that feed the counters (from the app registry's ready())."""
    connection_created.connect(metrics.count_queries, dispatch_uid="metrics.count_queries")
    stock_level_changed.connect(
        _movement_committed, sender=StockLevel, dispatch_uid="metrics.movements"
    )
    receivers = {
        celery_signals.task_prerun: _task_prerun,
        celery_signals.task_postrun: _task_postrun,
        celery_signals.task_success: _task_success,
        celery_signals.task_failure: _task_failure,
        celery_signals.task_retry: _task_retry,
        celery_signals.task_rejected: _task_rejected,
        celery_signals.task_revoked: _task_revoked,
    }
    for signal, receiver in receivers.items():
        signal.connect(receiver, weak=False, dispatch_uid=f"metrics.{receiver.__name__}")
