"""The dashboard: what each branch a user may see holds, runs low on, and did today.

Every figure is one aggregate query grouped by branch, whatever the number of branches and
products; the totals are added up from the branches' figures, except the number of distinct
products, which one more query counts (a product stocked at two branches is one product).
Figures are kept in the cache until the next live event of their branch (``figures_of``).

The selectors here (``figures``, ``transfers_under_way``, ``value_by_category``,
``movements_by_day``, ``recent_activity``) serve the API and the dashboard page alike; each
takes the branches already chosen and costs a fixed number of queries.
"""

import functools
import hashlib
import operator
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from accounts.permissions import AnyUser
from alerts.models import AlertStatus, LowStockAlert
from branches.errors import UnknownBranch
from branches.models import Branch
from catalog.models import QUANTITY_DECIMAL_PLACES, Product
from inventory_project.kernel import realtime
from inventory_project.kernel.api import ApiErrorSerializer
from inventory_project.kernel.schema import ERRORS
from stock.models import MovementKind, StockLevel, StockMovement
from transfers.models import Transfer, TransferEvent, TransferStatus

FIGURES = (
    "products",
    "units_on_hand",
    "stock_value",
    "low_stock",
    "open_alerts",
    "movements_today",
)

# Wide enough for the sum of every level's on hand, and of its value at cost.
_UNITS = DecimalField(max_digits=30, decimal_places=QUANTITY_DECIMAL_PLACES)
_NO_UNITS = Decimal(0).quantize(Decimal(1).scaleb(-QUANTITY_DECIMAL_PLACES))
_MONEY = DecimalField(max_digits=40, decimal_places=QUANTITY_DECIMAL_PLACES + 2)
_CENT = Decimal("0.01")
_VALUE_AT_COST = Sum(F("on_hand") * F("product__cost_price"), output_field=_MONEY)

# A transfer is under way from its request until its last receipt or its cancellation.
TRANSFERS_UNDER_WAY = (
    TransferStatus.REQUESTED,
    TransferStatus.APPROVED,
    TransferStatus.IN_TRANSIT,
    TransferStatus.PARTIALLY_RECEIVED,
)


def dashboard(user: AnyUser, *, branch_id: uuid.UUID | None = None) -> dict:
    """The figures of every branch ``user`` may see (all of them for ADMINs), and their totals.

    Per branch: ``products`` (stock levels with something on hand), ``units_on_hand`` (their
    sum), ``low_stock`` (levels below their effective threshold), ``open_alerts`` (alerts not
    resolved) and ``movements_today`` (ledger entries since midnight in the branch's own time
    zone). ``totals`` holds the same figures over all those branches; its ``products`` counts
    each product once, however many branches hold it.

    Inactive branches are included, flagged ``is_active: false``: they take no movements, but
    they may still hold stock and have open alerts, and leaving them out would make the totals
    disagree with the stock lists.

    ``branch_id`` narrows everything to that branch; one the user may not see raises
    UnknownBranch, exactly as one that does not exist.
    """
    branches = permissions.scope(Branch.objects.order_by("code"), user, via="pk")
    if branch_id is not None:
        branches = branches.filter(pk=branch_id)
    branches = list(branches.only("id", "code", "name", "timezone", "is_active"))
    if branch_id is not None and not branches:
        raise UnknownBranch(f"No branch with id {branch_id}.")
    totals, figures = figures_of(branches)
    return {
        "totals": totals,
        "branches": [
            {
                "id": branch.pk,
                "code": branch.code,
                "name": branch.name,
                "timezone": branch.timezone,
                "is_active": branch.is_active,
                **figures[branch.pk],
            }
            for branch in branches
        ],
    }


def figures_of(branches: list[Branch]) -> tuple[dict, dict[uuid.UUID, dict]]:
    """The totals over ``branches`` and each one's figures (``FIGURES``), by branch id:
    five queries at most, none without branches. ``stock_value`` is on hand at cost price.

    A branch's figures are kept in the cache under the number of its last live event and
    of the catalog's (``realtime.current_versions``), read before they are worked out: any
    change to what they count announces itself with a new number, so figures kept are
    exact, and a dashboard of fifty branches of which one changed counts that one again.
    """
    versions = realtime.current_versions(
        [realtime.branch_group(branch.pk) for branch in branches] + [realtime.CATALOG_GROUP]
    )
    keys = {} if versions is None else _figure_keys(branches, versions)
    kept = cache.get_many(list(keys.values())) if keys else {}
    missing = [branch for branch in branches if keys.get(branch.pk) not in kept]
    figures = {branch.pk: kept.get(keys.get(branch.pk)) for branch in branches}
    if missing:
        counted = _figures_by_branch(missing)
        figures |= counted
        if keys:
            cache.set_many({keys[pk]: value for pk, value in counted.items()}, FIGURES_SECONDS)
    totals = _no_figures()
    for name in FIGURES[1:]:
        totals[name] = sum((f[name] for f in figures.values()), start=totals[name])
    if len(branches) <= 1:
        totals["products"] = figures[branches[0].pk]["products"] if branches else 0
    else:
        totals["products"] = _kept("products", branches, lambda: _distinct_products(branches))
    return totals, figures


# Figures kept are found by their versions; this only bounds how long unused ones stay.
FIGURES_SECONDS = 24 * 60 * 60


def _figure_keys(branches: list[Branch], versions: dict[str, int]) -> dict[uuid.UUID, str]:
    catalog = versions[realtime.CATALOG_GROUP]
    now = timezone.now()
    keys = {}
    for branch in branches:
        version = versions[realtime.branch_group(branch.pk)]
        # Today's movements count from the branch's own midnight.
        today = _local_midnight(now, branch.timezone).date().isoformat()
        keys[branch.pk] = f"dashboard:figures:{branch.pk.hex}:{version}:{catalog}:{today}"
    return keys


def _figures_by_branch(branches: list[Branch]) -> dict[uuid.UUID, dict]:
    figures = {branch.pk: _no_figures() for branch in branches}
    if not branches:
        return figures
    ids = list(figures)
    holdings = (
        StockLevel.objects.filter(branch__in=ids, on_hand__gt=0)
        .order_by()
        .values("branch")
        .annotate(
            products=Count("pk"),
            units_on_hand=Sum("on_hand", output_field=_UNITS),
            stock_value=_VALUE_AT_COST,
        )
    )
    for row in holdings:
        figures[row["branch"]].update(
            products=row["products"],
            units_on_hand=row["units_on_hand"],
            stock_value=row["stock_value"].quantize(_CENT),
        )
    counts = {
        "low_stock": StockLevel.objects.below_threshold().filter(branch__in=ids),
        "open_alerts": LowStockAlert.objects.filter(
            branch__in=ids, status__in=[AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED]
        ),
        "movements_today": StockMovement.objects.filter(_since_local_midnight(branches)),
    }
    for name, rows in counts.items():
        for branch_id, count in (
            rows.order_by().values("branch").annotate(n=Count("pk")).values_list("branch", "n")
        ):
            figures[branch_id][name] = count
    return figures


def _no_figures() -> dict:
    return {
        "products": 0,
        "units_on_hand": _NO_UNITS,
        "stock_value": Decimal("0.00"),
        "low_stock": 0,
        "open_alerts": 0,
        "movements_today": 0,
    }


def _distinct_products(branches: list[Branch]) -> int:
    """Products stocked at any of ``branches``."""
    ids = [branch.pk for branch in branches]
    stocked = StockLevel.objects.filter(product=OuterRef("pk"), branch__in=ids, on_hand__gt=0)
    # A probe per product stops at its first stocked level: far less than counting the
    # distinct products of every level.
    return Product.objects.filter(Exists(stocked)).count()


def _kept(name: str, branches: list[Branch], work: Callable[[], Any], *about: object) -> Any:
    """What ``work()`` answers about ``branches``, kept in the cache until one of them (or
    the catalog) announces a change with a live event, or the day turns; worked out each
    time when the event numbers cannot be read."""
    versions = realtime.current_versions(
        [realtime.branch_group(branch.pk) for branch in branches] + [realtime.CATALOG_GROUP]
    )
    if versions is None:
        return work()
    state = sorted(_figure_keys(branches, versions).values()) + [str(part) for part in about]
    key = f"dashboard:{name}:" + hashlib.sha256("|".join(state).encode()).hexdigest()
    kept = cache.get(key)
    if kept is None:
        kept = work()
        cache.set(key, kept, FIGURES_SECONDS)
    return kept


def _since_local_midnight(branches: list[Branch]) -> Q:
    """Rows of each branch made since midnight where the branch is: one condition per time
    zone, however many branches share it."""
    now = timezone.now()
    by_zone: dict[str, list[uuid.UUID]] = defaultdict(list)
    for branch in branches:
        by_zone[branch.timezone].append(branch.pk)
    return functools.reduce(
        operator.or_,
        (
            Q(branch__in=ids, created_at__gte=_local_midnight(now, zone))
            for zone, ids in by_zone.items()
        ),
    )


def _local_midnight(now: datetime, zone: str) -> datetime:
    """When today began in ``zone``. On a day whose midnight a clock change skips or repeats,
    the earliest moment of the day."""
    tz = ZoneInfo(zone)
    return datetime.combine(now.astimezone(tz).date(), time.min, tzinfo=tz)


# What the dashboard page adds ------------------------------------------------------------


def transfers_under_way(branches: list[Branch]) -> dict[str, int]:
    """Transfers under way (``TRANSFERS_UNDER_WAY``) into (``inbound``) and out of
    (``outbound``) ``branches``: one query. A transfer between two of them counts both ways."""
    if not branches:
        return {"inbound": 0, "outbound": 0}
    ids = [branch.pk for branch in branches]
    return Transfer.objects.filter(
        Q(to_branch__in=ids) | Q(from_branch__in=ids), status__in=TRANSFERS_UNDER_WAY
    ).aggregate(
        inbound=Count("pk", filter=Q(to_branch__in=ids)),
        outbound=Count("pk", filter=Q(from_branch__in=ids)),
    )


def value_by_category(branches: list[Branch]) -> list[dict]:
    """What ``branches`` hold, at cost, per product category (``name`` None for products
    without one), the most valuable first; categories worth nothing are left out. One query, kept
    until a branch changes (``_kept``)."""
    if not branches:
        return []
    return _kept("value-by-category", branches, lambda: _value_by_category(branches))


def _value_by_category(branches: list[Branch]) -> list[dict]:
    rows = (
        StockLevel.objects.filter(branch__in=[branch.pk for branch in branches], on_hand__gt=0)
        .order_by()
        .values("product__category", "product__category__name")
        .annotate(value=_VALUE_AT_COST)
        .filter(value__gt=0)
        .order_by("-value", "product__category__name")
    )
    return [
        {
            "category": row["product__category"],
            "name": row["product__category__name"],
            "value": row["value"].quantize(_CENT),
        }
        for row in rows
    ]


def movements_by_day(branches: list[Branch], *, days: int, zone: str) -> list[dict]:
    """How many movements of each kind ``branches`` recorded on each of the last ``days``
    days (today included), days as they are in time zone ``zone``, oldest first, days
    without movements too: ``{"day", "counts": {kind: n}, "total"}``. One query, kept until a
    branch changes (``_kept``)."""
    tz = ZoneInfo(zone)
    today = timezone.now().astimezone(tz).date()
    work = functools.partial(_movements_by_day, branches, today=today, days=days, tz=tz)
    if not branches:
        return work()
    return _kept("movements-by-day", branches, work, today, days, zone)


def _movements_by_day(branches: list[Branch], *, today: date, days: int, tz: ZoneInfo) -> list:
    first = today - timedelta(days=days - 1)
    counts: dict[date, dict[str, int]] = {first + timedelta(n): {} for n in range(days)}
    if branches:
        rows = (
            StockMovement.objects.filter(
                branch__in=[branch.pk for branch in branches],
                created_at__gte=datetime.combine(first, time.min, tzinfo=tz),
            )
            .annotate(day=TruncDate("created_at", tzinfo=tz))
            .order_by()
            .values_list("day", "kind")
            .annotate(n=Count("pk"))
        )
        for day, kind, n in rows:
            if day in counts:
                counts[day][kind] = n
    return [
        {
            "day": day,
            "counts": {kind: by_kind.get(kind, 0) for kind in MovementKind.values},
            "total": sum(by_kind.values()),
        }
        for day, by_kind in counts.items()
    ]


@dataclass(frozen=True)
class Activity:
    """One line of the activity feed: a movement or a transfer step."""

    at: datetime
    movement: StockMovement | None = None
    step: TransferEvent | None = None


def recent_activity(branches: list[Branch], *, limit: int) -> list[Activity]:
    """The latest ``limit`` movements of ``branches`` and steps of transfers into or out of
    them, newest first: two queries, whoever and whatever the rows name loaded with them."""
    if not branches:
        return []
    ids = [branch.pk for branch in branches]
    movements = (
        StockMovement.objects.filter(branch__in=ids)
        .select_related("actor", "product", "branch")
        .order_by("-created_at", "-version")[:limit]
    )
    steps = (
        TransferEvent.objects.filter(
            Q(transfer__from_branch__in=ids) | Q(transfer__to_branch__in=ids)
        )
        .select_related("actor", "transfer__from_branch", "transfer__to_branch")
        .order_by("-created_at", "-id")[:limit]
    )
    activity = [Activity(m.created_at, movement=m) for m in movements]
    activity += [Activity(s.created_at, step=s) for s in steps]
    activity.sort(key=lambda entry: entry.at, reverse=True)
    return activity[:limit]


# API ------------------------------------------------------------------------------------


class DashboardFiguresSerializer(serializers.Serializer):
    products = serializers.IntegerField(
        help_text="Products with something on hand (each counted once in the totals)."
    )
    units_on_hand = serializers.DecimalField(
        max_digits=None,
        decimal_places=QUANTITY_DECIMAL_PLACES,
        help_text="Sum of on-hand quantities, whatever their units.",
    )
    low_stock = serializers.IntegerField(
        help_text="Stock levels below their threshold (the branch's own, else the product's)."
    )
    open_alerts = serializers.IntegerField(help_text="Low-stock alerts open or acknowledged.")
    movements_today = serializers.IntegerField(
        help_text="Ledger entries since midnight in the branch's time zone."
    )


class _BranchSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    timezone = serializers.CharField(help_text="The time zone that decides when today began.")
    is_active = serializers.BooleanField(help_text="Inactive branches are listed too.")


class DashboardBranchSerializer(_BranchSerializer, DashboardFiguresSerializer):
    """A branch and its figures."""


class DashboardSerializer(serializers.Serializer):
    totals = DashboardFiguresSerializer(help_text="The figures over all the listed branches.")
    branches = DashboardBranchSerializer(many=True, help_text="Ordered by code.")


class DashboardQuerySerializer(serializers.Serializer):
    branch = serializers.UUIDField(required=False)


class DashboardApi(APIView):
    """Stock, low stock, open alerts and today's movements of every branch the caller may
    see (every branch for ADMINs), with totals; ``branch`` narrows it to one."""

    @extend_schema(
        summary="Figures per branch and in total",
        parameters=[
            OpenApiParameter(
                "branch",
                OpenApiTypes.UUID,
                OpenApiParameter.QUERY,
                required=False,
                description="Only this branch. One you may not see answers 404, like one that "
                "does not exist; a value that is not a UUID answers 400.",
            )
        ],
        responses={
            200: OpenApiResponse(
                DashboardSerializer, description="The figures of each branch and their totals."
            ),
            400: OpenApiResponse(ApiErrorSerializer, description=ERRORS["400"]),
        },
    )
    def get(self, request: Request) -> Response:
        query = DashboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = dashboard(request.user, branch_id=query.validated_data.get("branch"))
        return Response(DashboardSerializer(data).data)
