"""The reports: pure reads over the stock levels and the ledger, shared by the report pages,
their CSV downloads and the API. Each costs a fixed number of queries however many branches,
products or movements it covers, and takes the branches already chosen (those a reader may
see: ``accounts.permissions`` decides, the callers ask it).

- ``stock_value``: on hand and its value at cost per branch and category, now or at the end
  of a past day, reconstructed from the ledger (each level's ``on_hand_after`` and
  ``average_cost_after`` of its last movement before that moment).
- ``movement_totals``: movements counted and their quantities summed per day, week or month,
  by branch and kind.
- ``top_movers`` and ``slow_movers``: the products issued most over a range, and the products
  held but not issued in it, longest unissued first.
- ``reorder_page`` / ``reorder_all`` and ``surplus_for``: the levels below their reorder
  minimum, the quantity suggested to bring each up to its maximum, and the other branches
  holding a surplus above their own maximum (the terms the Replenishment plan uses: see
  stock.selectors.reorder_terms).

Values are at each level's moving average cost (see stock.services.average_cost_after); a
level without one yet (nothing received with a cost) is valued at the product's cost price.
"""

import datetime
import math
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from branches.models import Branch
from catalog.models import QUANTITY_DECIMAL_PLACES, Product, Unit
from stock.models import MovementKind, StockLevel, StockLevelQuerySet, StockMovement

_QUANTUM = Decimal(1).scaleb(-QUANTITY_DECIMAL_PLACES)
_CENT = Decimal("0.01")
_UNITS = DecimalField(max_digits=30, decimal_places=QUANTITY_DECIMAL_PLACES)
_MONEY = DecimalField(max_digits=40, decimal_places=QUANTITY_DECIMAL_PLACES + 4)

# Without a reorder rule, a level is brought back to (and a branch keeps, before it has any
# to spare) twice its effective threshold, as stock.selectors.reorder_terms says.
TARGET_FACTOR = 2


def midnight(day: datetime.date, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """When ``day`` began in ``zone`` (the earliest moment, on a day a clock change skips)."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)


def end_of(day: datetime.date, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """When ``day`` ended in ``zone``: the next day's midnight (exclusive)."""
    return midnight(day + datetime.timedelta(days=1), zone)


def _ids(branches: Iterable[Branch]) -> list[uuid.UUID]:
    return [branch.pk for branch in branches]


# Stock value as of a day ------------------------------------------------------------------


@dataclass(frozen=True)
class ValueRow:
    """What one branch held of one category: ``products`` with something on hand, their
    ``quantity`` summed whatever their units, and its ``value`` at moving average cost."""

    branch_id: uuid.UUID
    branch_code: str
    category_id: uuid.UUID | None
    category_name: str | None
    products: int
    quantity: Decimal
    value: Decimal


def stock_value(
    branches: list[Branch],
    *,
    until: datetime.datetime | None = None,
    category_id: uuid.UUID | None = None,
) -> list[ValueRow]:
    """What ``branches`` held per branch and category just before ``until`` (now when None),
    by branch code and category name (products without a category last). One query.

    Each level is valued at its moving average cost, else the product's cost price. Before
    ``until``, a level held its last movement's ``on_hand_after`` at its
    ``average_cost_after``: read through correlated subqueries per level (an index on
    (stock_level, created_at) keeps each a probe), in a derived table that the grouping
    reads, so each level's subqueries run once.
    """
    if not branches:
        return []
    levels = StockLevel.objects.filter(branch__in=_ids(branches))
    if category_id is not None:
        levels = levels.filter(product__category_id=category_id)
    if until is None:
        held = levels.values(
            "branch_id", "product_id", held=F("on_hand"), unit_cost=F("average_cost")
        )
    else:
        last = StockMovement.objects.filter(
            stock_level=OuterRef("pk"), created_at__lt=until
        ).order_by("-created_at", "-version")
        held = levels.values(
            "branch_id",
            "product_id",
            held=Subquery(last.values("on_hand_after")[:1]),
            unit_cost=Subquery(last.values("average_cost_after")[:1]),
        )
    inner, params = held.order_by().query.sql_with_params()
    quote = connection.ops.quote_name
    branch, product, category = Branch._meta.db_table, Product._meta.db_table, "catalog_category"
    sql = f"""
        SELECT h.branch_id, b.{quote("code")}, p.category_id, c.{quote("name")},
               COUNT(*), SUM(h.held), SUM(h.held * COALESCE(h.unit_cost, p.cost_price))
        FROM ({inner}) h
        JOIN {quote(branch)} b ON b.id = h.branch_id
        JOIN {quote(product)} p ON p.id = h.product_id
        LEFT JOIN {quote(category)} c ON c.id = p.category_id
        WHERE h.held > 0
        GROUP BY h.branch_id, b.{quote("code")}, p.category_id, c.{quote("name")}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows = [
        ValueRow(
            branch_id=_uuid(branch_id),
            branch_code=code,
            category_id=_uuid(category_id) if category_id is not None else None,
            category_name=name,
            products=int(products),
            quantity=Decimal(quantity).quantize(_QUANTUM),
            value=Decimal(value).quantize(_CENT),
        )
        for branch_id, code, category_id, name, products, quantity, value in fetched
    ]
    rows.sort(key=lambda r: (r.branch_code, r.category_name is None, (r.category_name or "")))
    return rows


def _uuid(value) -> uuid.UUID:
    """A UUID column as a raw query hands it back (SQLite keeps them as hex text)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


# Movements per period ---------------------------------------------------------------------

GRANULARITIES = ("day", "week", "month")
_TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
# The most periods one report spans: a quarter of days, two years of weeks, five of months.
MAX_PERIODS = {"day": 92, "week": 105, "month": 60}


def period_start(day: datetime.date, granularity: str) -> datetime.date:
    """The first day of the period ``day`` falls in (weeks begin on Monday)."""
    if granularity == "week":
        return day - datetime.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def next_period(start: datetime.date, granularity: str) -> datetime.date:
    if granularity == "week":
        return start + datetime.timedelta(days=7)
    if granularity == "month":
        return (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return start + datetime.timedelta(days=1)


def periods(start: datetime.date, end: datetime.date, granularity: str) -> list[datetime.date]:
    """The first day of every period from the one holding ``start`` to the one holding
    ``end``."""
    first, found = period_start(start, granularity), []
    while first <= end:
        found.append(first)
        first = next_period(first, granularity)
    return found


def period_count(start: datetime.date, end: datetime.date, granularity: str) -> int:
    """How many periods a range touches, counted without listing them."""
    first, last = period_start(start, granularity), period_start(end, granularity)
    if granularity == "day":
        return (last - first).days + 1
    if granularity == "week":
        return (last - first).days // 7 + 1
    return (last.year - first.year) * 12 + last.month - first.month + 1


@dataclass
class PeriodRow:
    """One branch's movements in one period: per kind, how many and their quantities
    summed (signed: issues and transfers out are negative)."""

    period: datetime.date
    branch_id: uuid.UUID
    branch_code: str
    counts: dict[str, int] = field(default_factory=dict)
    quantities: dict[str, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def movement_totals(
    branches: list[Branch],
    *,
    start: datetime.date,
    end: datetime.date,
    granularity: str,
    zone: zoneinfo.ZoneInfo,
) -> list[PeriodRow]:
    """The movements of ``branches`` from ``start`` to ``end`` (days in ``zone``, both
    included), per period and branch, oldest period first then by branch code; only pairs
    with movements. One query."""
    if not branches:
        return []
    trunc = _TRUNC[granularity]
    grouped = (
        StockMovement.objects.filter(
            branch__in=_ids(branches),
            created_at__gte=midnight(start, zone),
            created_at__lt=end_of(end, zone),
        )
        .annotate(period=trunc("created_at", tzinfo=zone))
        .order_by()
        .values_list("period", "branch_id", "branch__code", "kind")
        .annotate(n=Count("pk"), quantity=Sum("delta", output_field=_UNITS))
    )
    rows: dict[tuple, PeriodRow] = {}
    for moment, branch_id, code, kind, n, quantity in grouped:
        day = moment.astimezone(zone).date() if isinstance(moment, datetime.datetime) else moment
        row = rows.setdefault((day, code), PeriodRow(day, branch_id, code))
        row.counts[kind] = n
        row.quantities[kind] = Decimal(quantity).quantize(_QUANTUM)
    return [rows[key] for key in sorted(rows)]


# Top and slow movers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Mover:
    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    issued: Decimal
    issues: int


def top_movers(
    branches: list[Branch],
    *,
    since: datetime.datetime,
    until: datetime.datetime,
    limit: int,
    category_id: uuid.UUID | None = None,
) -> list[Mover]:
    """The ``limit`` products ``branches`` issued most of in [since, until), by quantity
    issued (then by number of issues, then SKU). One query."""
    if not branches:
        return []
    issues = StockMovement.objects.filter(
        branch__in=_ids(branches),
        kind=MovementKind.ISSUE,
        created_at__gte=since,
        created_at__lt=until,
    )
    if category_id is not None:
        issues = issues.filter(product__category_id=category_id)
    grouped = (
        issues.order_by()
        .values_list("product_id", "product__sku", "product__name", "product__unit")
        .annotate(issued=Sum("delta", output_field=_UNITS), issues=Count("pk"))
        .order_by("issued", "-issues", "product__sku")[:limit]
    )
    return [
        Mover(product_id, sku, name, unit, -Decimal(issued).quantize(_QUANTUM), n)
        for product_id, sku, name, unit, issued, n in grouped
    ]


@dataclass(frozen=True)
class SlowMover:
    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    on_hand: Decimal
    value: Decimal
    last_issue: datetime.datetime | None  # None: never issued at these branches


def slow_movers(
    branches: list[Branch],
    *,
    since: datetime.datetime,
    limit: int,
    category_id: uuid.UUID | None = None,
) -> list[SlowMover]:
    """The ``limit`` products ``branches`` hold (on hand above zero) that none of them
    issued since ``since``: never issued first, then the longest ago, then by SKU. One
    query."""
    if not branches:
        return []
    ids = _ids(branches)
    held = Q(stock_levels__branch__in=ids)
    last_issue = (
        StockMovement.objects.filter(
            product=OuterRef("pk"), branch__in=ids, kind=MovementKind.ISSUE
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    products = Product.objects.all()
    if category_id is not None:
        products = products.filter(category_id=category_id)
    rows = (
        products.annotate(
            held=Sum("stock_levels__on_hand", filter=held, output_field=_UNITS),
            value=Sum(
                F("stock_levels__on_hand")
                * Coalesce(F("stock_levels__average_cost"), F("cost_price")),
                filter=held,
                output_field=_MONEY,
            ),
        )
        .filter(held__gt=0)
        .annotate(last_issue=Subquery(last_issue))
        .filter(Q(last_issue__isnull=True) | Q(last_issue__lt=since))
        .order_by(F("last_issue").asc(nulls_first=True), "sku")
        .values_list("pk", "sku", "name", "unit", "held", "value", "last_issue")[:limit]
    )
    return [
        SlowMover(
            pk, sku, name, unit, Decimal(on_hand).quantize(_QUANTUM), value.quantize(_CENT), last
        )
        for pk, sku, name, unit, on_hand, value, last in rows
    ]


# Reorder ----------------------------------------------------------------------------------


REORDER_ROW = (
    "id",
    "branch_id",
    "branch__code",
    "branch__name",
    "product_id",
    "product__sku",
    "product__name",
    "product__unit",
    "product__category__name",
    "on_hand",
    "effective_threshold",
    "reorder_minimum",
    "reorder_maximum",
    "reorder_rule__id",
)


def with_reorder_terms(levels: StockLevelQuerySet) -> StockLevelQuerySet:
    """Annotate ``effective_threshold``, ``reorder_minimum`` and ``reorder_maximum``: the
    level's reorder rule, else its effective threshold and twice that. The same terms as
    stock.selectors.reorder_terms, computed in the query (a LEFT JOIN on the rule) so a
    report reads any number of levels at a fixed cost."""
    minimum = Coalesce(
        "reorder_rule__minimum",
        "low_stock_threshold",
        "product__low_stock_threshold",
        output_field=_UNITS,
    )
    return levels.with_effective_threshold().annotate(
        reorder_minimum=minimum,
        reorder_maximum=Coalesce(
            "reorder_rule__maximum",
            ExpressionWrapper(minimum * TARGET_FACTOR, output_field=_UNITS),
            output_field=_UNITS,
        ),
    )


def low_levels(branches: list[Branch], *, category_id: uuid.UUID | None = None):
    """The levels of ``branches`` below their reorder minimum (the rule's, else the
    effective threshold: the level's own, else the product's), of active products, by
    branch code, product name and level: a queryset of ``REORDER_ROW`` dicts, to be sliced
    or iterated."""
    levels = with_reorder_terms(StockLevel.objects.all()).filter(
        branch__in=_ids(branches),
        product__is_active=True,
        on_hand__lt=F("reorder_minimum"),
    )
    if category_id is not None:
        levels = levels.filter(product__category_id=category_id)
    return levels.order_by("branch__code", "product__name", "pk").values(*REORDER_ROW)


def suggested_quantity(on_hand: Decimal, maximum: Decimal, unit: str) -> Decimal:
    """What brings a level up to its reorder ``maximum``, rounded up to a whole number for
    countable units."""
    return _rounded(maximum - on_hand, unit, ROUND_CEILING)


def spare_quantity(on_hand: Decimal, maximum: Decimal, unit: str) -> Decimal:
    """What a branch holds beyond its own reorder ``maximum``: what it can give without
    needing a reorder itself, rounded down to a whole number for countable units."""
    return max(_rounded(on_hand - maximum, unit, ROUND_FLOOR), Decimal(0))


def _rounded(amount: Decimal, unit: str, rounding: str) -> Decimal:
    if unit in Unit.values and Unit(unit).is_countable:
        return amount.quantize(Decimal(1), rounding=rounding)
    return amount.quantize(_QUANTUM, rounding=rounding)


@dataclass(frozen=True)
class Surplus:
    """A branch that holds more of a product than its own maximum (``spare_quantity``)."""

    branch_id: uuid.UUID
    branch_code: str
    available: Decimal


def surplus_for(product_ids: Iterable[uuid.UUID] | QuerySet) -> dict[uuid.UUID, list[Surplus]]:
    """The active branches holding spare of each of ``product_ids`` (ids, or a queryset of
    them read as a subquery), the most spare first (then by code). One query, whatever the
    branches: the caller decides which of them it may name."""
    wanted = product_ids if isinstance(product_ids, QuerySet) else set(product_ids)
    if not isinstance(wanted, QuerySet) and not wanted:
        return {}
    levels = (
        with_reorder_terms(StockLevel.objects.all())
        .filter(product__in=wanted, branch__is_active=True)
        .filter(on_hand__gt=F("reorder_maximum"))
        .values_list(
            "product_id",
            "branch_id",
            "branch__code",
            "on_hand",
            "reorder_maximum",
            "product__unit",
        )
    )
    found: dict[uuid.UUID, list[Surplus]] = defaultdict(list)
    for product_id, branch_id, code, on_hand, maximum, unit in levels:
        spare = spare_quantity(on_hand, maximum, unit)
        if spare > 0:
            found[product_id].append(Surplus(branch_id, code, spare))
    for sources in found.values():
        sources.sort(key=lambda s: (-s.available, s.branch_code))
    return dict(found)


@dataclass(frozen=True)
class ReorderLine:
    """A low level, what to bring it back with, and where that could come from.

    ``sources`` are the other branches with spare that the reader may see (named, with
    figures); ``hidden_surplus`` says some branch the reader may not see has spare too.
    """

    level_id: uuid.UUID
    branch_id: uuid.UUID
    branch_code: str
    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    category: str | None
    on_hand: Decimal
    threshold: Decimal  # the effective low-stock threshold, whatever the rule says
    minimum: Decimal
    maximum: Decimal
    from_rule: bool  # the level's reorder rule set minimum and maximum, not the defaults
    suggested: Decimal
    sources: list[Surplus]
    hidden_surplus: bool

    @property
    def transfer_quantity(self) -> Decimal | None:
        """What the first source can cover of the suggestion."""
        if not self.sources:
            return None
        return min(self.suggested, self.sources[0].available)


def reorder_lines(
    rows: Iterable[dict],
    surplus: dict[uuid.UUID, list[Surplus]],
    *,
    visible: frozenset[uuid.UUID] | None,
) -> Iterator[ReorderLine]:
    """``rows`` of ``low_levels`` as reorder lines; ``visible`` the branch ids the reader
    may see (None: all of them)."""
    for row in rows:
        unit = row["product__unit"]
        others = [s for s in surplus.get(row["product_id"], []) if s.branch_id != row["branch_id"]]
        shown = [s for s in others if visible is None or s.branch_id in visible]
        yield ReorderLine(
            level_id=row["id"],
            branch_id=row["branch_id"],
            branch_code=row["branch__code"],
            product_id=row["product_id"],
            sku=row["product__sku"],
            name=row["product__name"],
            unit=unit,
            category=row["product__category__name"],
            on_hand=row["on_hand"],
            threshold=row["effective_threshold"],
            minimum=row["reorder_minimum"],
            maximum=row["reorder_maximum"],
            from_rule=row["reorder_rule__id"] is not None,
            suggested=suggested_quantity(row["on_hand"], row["reorder_maximum"], unit),
            sources=shown,
            hidden_surplus=len(shown) < len(others),
        )


def reorder_page(
    branches: list[Branch],
    *,
    offset: int,
    limit: int,
    visible: frozenset[uuid.UUID] | None,
    category_id: uuid.UUID | None = None,
) -> tuple[list[ReorderLine], bool]:
    """``limit`` reorder lines from ``offset``, and whether more follow. Two queries."""
    if not branches:
        return [], False
    rows = list(low_levels(branches, category_id=category_id)[offset : offset + limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    surplus = surplus_for({row["product_id"] for row in rows})
    return list(reorder_lines(rows, surplus, visible=visible)), more


def reorder_all(
    branches: list[Branch],
    *,
    visible: frozenset[uuid.UUID] | None,
    category_id: uuid.UUID | None = None,
    chunk: int = 2000,
) -> Iterator[ReorderLine]:
    """Every reorder line, read through a cursor in chunks (the CSV download). Two queries:
    the spare of every low product at once, then the low levels."""
    if not branches:
        return iter(())
    low = low_levels(branches, category_id=category_id)
    surplus = surplus_for(low.order_by().values("product_id"))
    return reorder_lines(low.iterator(chunk_size=chunk), surplus, visible=visible)


def format_plain(amount: Decimal) -> str:
    """A quantity as plain digits without trailing zeros (``12``, ``2.5``): for addresses."""
    return f"{amount.normalize():f}"


def days_since(
    moment: datetime.datetime | None, now: datetime.datetime | None = None
) -> int | None:
    if moment is None:
        return None
    now = now or timezone.now()
    return max(math.floor((now - moment).total_seconds() / 86400), 0)
