"""The dashboard page at ``/``: the figures, two charts and the recent activity of the branch
the URL chooses, or of all the user's branches.

One view answers the whole page or, for HTMX, one of its live parts (``?part=cards``,
``charts`` or ``feed``); each part computes only what it shows, in a fixed number of queries
(the selectors in ``inventory_project.dashboard``), so a burst of live events stays cheap.
The charts are SVG drawn here, their numbers also given as text.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import formats
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from branches.models import Branch
from inventory_project import dashboard
from inventory_project.kernel.pages import render_page, wants_partial
from inventory_project.shell import Shell, chosen_branch
from stock import charts
from stock.models import MovementKind
from transfers.models import TransferStep

PARTS = ("cards", "charts", "feed")
CHART_DAYS = 30
FEED_LENGTH = 20
TOP_CATEGORIES = 8

# The live events each part is refreshed on.
LIVE_ON = {
    "cards": "stock.changed stock.threshold_changed alert.raised alert.resolved transfer.updated "
    "product.changed",
    "charts": "stock.changed product.changed",
    "feed": "stock.changed transfer.updated",
}

STEPS = {
    TransferStep.REQUEST: gettext_lazy("requested"),
    TransferStep.SEND: gettext_lazy("sent"),
    TransferStep.APPROVE: gettext_lazy("approved"),
    TransferStep.SHIP: gettext_lazy("shipped"),
    TransferStep.RECEIVE: gettext_lazy("received"),
    TransferStep.CLOSE: gettext_lazy("closed short"),
    TransferStep.CANCEL: gettext_lazy("cancelled"),
    TransferStep.REJECT: gettext_lazy("rejected"),
}


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    shell = Shell(request)
    branch = chosen_branch(request, shell.branches)
    branches = [branch] if branch is not None else shell.branches
    context = {
        "shell": shell,  # the shell already holds the user's branches: no second query
        "branch": branch,
        "part_urls": _part_urls(branch),
        "live_on": LIVE_ON,
    }
    part = request.GET.get("part")
    if part in PARTS and wants_partial(request):
        context.update(_PARTS[part](branches, branch))
        return render_page(
            request, "dashboard/page.html", context, partial=f"dashboard/_{part}.html"
        )
    for build in _PARTS.values():
        context.update(build(branches, branch))
    return render_page(request, "dashboard/page.html", context)


def _part_urls(branch: Branch | None) -> dict[str, str]:
    home = reverse("home")
    chosen = {"branch": branch.code} if branch is not None else {}
    return {part: f"{home}?{urlencode({**chosen, 'part': part})}" for part in PARTS}


# The cards ---------------------------------------------------------------------------------


def _cards(branches: list[Branch], branch: Branch | None) -> dict:
    totals, _by_branch = dashboard.figures_of(branches)
    transfers = dashboard.transfers_under_way(branches)
    nothing_yet = not (
        totals["products"] or totals["open_alerts"] or transfers["inbound"] or transfers["outbound"]
    )
    return {"totals": totals, "transfers": transfers, "nothing_yet": nothing_yet}


# The charts --------------------------------------------------------------------------------

WIDTH = 400  # of every chart's viewBox; the SVG scales to the width it is given


@dataclass(frozen=True)
class CategoryBar:
    name: str
    value: Decimal
    value_text: str
    y: int
    width: float


@dataclass(frozen=True)
class Segment:
    kind: str
    label: str
    count: int
    colour: str
    y: float
    height: float


@dataclass(frozen=True)
class DayBar:
    day: date
    day_text: str
    total: int
    x: float
    center: float
    anchor: str  # of its label on the time axis
    segments: list[Segment]
    all_counts: list[int]  # in the legend's order
    summary: str
    tick: bool


def _charts(branches: list[Branch], branch: Branch | None) -> dict:
    zone = branch.timezone if branch is not None else settings.TIME_ZONE
    categories = dashboard.value_by_category(branches)
    days = dashboard.movements_by_day(branches, days=CHART_DAYS, zone=zone)
    return {
        "value_chart": _value_chart(categories),
        "movement_chart": _movement_chart(days),
        "kinds": [{"label": label, "colour": colour} for label, colour in charts.KINDS.values()],
    }


ROW = 38  # a category's label and bar


def _value_chart(categories: list[dict]) -> dict:
    rows = [
        (row["name"] if row["name"] is not None else _("No category"), row["value"])
        for row in categories[:TOP_CATEGORIES]
    ]
    rest = categories[TOP_CATEGORIES:]
    if rest:
        others = sum((row["value"] for row in rest), start=Decimal(0))
        rows.append((_("%(count)d other categories") % {"count": len(rest)}, others))
    largest = max((value for _name, value in rows), default=Decimal(0))
    bars = [
        CategoryBar(
            name=name if len(name) <= 34 else name[:33] + "…",
            value=value,
            value_text=charts.money(value),
            y=n * ROW,
            width=round(float(value / largest) * WIDTH, 1) if largest else 0,
        )
        for n, (name, value) in enumerate(rows)
    ]
    total = sum((row["value"] for row in categories), start=Decimal(0))
    return {
        "bars": bars,
        "height": max(len(bars), 1) * ROW,
        "total_text": charts.money(total),
    }


# The movement chart's plot area inside its viewBox.
HEIGHT = 210
LEFT, RIGHT, TOP, BOTTOM = 46, 4, 10, 24
TICK_EVERY = 7  # days between labels on the time axis, counted back from today


def _movement_chart(days: list[dict]) -> dict:
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    scale_max = charts.nice_ceiling(max((day["total"] for day in days), default=0))
    slot = plot_width / len(days)
    bar_width = round(slot * 0.72, 2)
    bars = []
    for n, day in enumerate(days):
        bottom = float(TOP + plot_height)
        segments = []
        for kind, (label, colour) in charts.KINDS.items():
            count = day["counts"][kind]
            if not count:
                continue
            height = round(count / scale_max * plot_height, 2)
            bottom -= height
            segments.append(Segment(kind, str(label), count, colour, round(bottom, 2), height))
        day_text = formats.date_format(day["day"], "j M")
        parts = ", ".join(f"{s.count} {s.label}" for s in segments) or _("no movements")
        bars.append(
            DayBar(
                day=day["day"],
                day_text=day_text,
                total=day["total"],
                x=round(LEFT + n * slot + (slot - bar_width) / 2, 2),
                center=round(LEFT + n * slot + slot / 2, 2) if n < len(days) - 1 else WIDTH - RIGHT,
                anchor="middle" if n < len(days) - 1 else "end",
                segments=segments,
                all_counts=[day["counts"][kind] for kind in charts.KINDS],
                summary=f"{day_text}: {parts}",
                tick=(len(days) - 1 - n) % TICK_EVERY == 0,
            )
        )
    grid = [
        {"y": round(TOP + plot_height - fraction * plot_height), "label": value}
        for fraction, value in ((0, 0), (0.5, scale_max / 2), (1, scale_max))
    ]
    return {
        "bars": bars,
        "bar_width": bar_width,
        "grid": [{**line, "label": charts.count(line["label"])} for line in grid],
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "axis_y": TOP + plot_height,
        "label_y": HEIGHT - 6,
        "height": HEIGHT,
        "total": sum(day["total"] for day in days),
        "active_days": [bar for bar in bars if bar.total],
    }


# The activity feed -------------------------------------------------------------------------


def _feed(branches: list[Branch], branch: Branch | None) -> dict:
    transfer_url = _transfer_url()
    lines = []
    for entry in dashboard.recent_activity(branches, limit=FEED_LENGTH):
        if entry.movement is not None:
            movement = entry.movement
            url = reverse("stock-level", args=[movement.stock_level_id])
            lines.append({"at": entry.at, "text": _movement_text(movement), "url": url})
        else:
            step = entry.step
            url = transfer_url(step.transfer_id) if transfer_url else None
            lines.append({"at": entry.at, "text": _step_text(step), "url": url, "step": step})
    return {"feed": lines}


MOVEMENT_TEXTS = {
    MovementKind.RECEIPT: gettext_lazy(
        "%(who)s received %(quantity)s %(unit)s of %(product)s at %(branch)s"
    ),
    MovementKind.ISSUE: gettext_lazy(
        "%(who)s issued %(quantity)s %(unit)s of %(product)s at %(branch)s"
    ),
    MovementKind.ADJUSTMENT: gettext_lazy(
        "%(who)s adjusted %(product)s at %(branch)s by %(change)s %(unit)s"
    ),
    MovementKind.COUNT: gettext_lazy(
        "%(who)s counted %(on_hand)s %(unit)s of %(product)s at %(branch)s (%(change)s)"
    ),
    MovementKind.TRANSFER_OUT: gettext_lazy(
        "%(who)s shipped %(quantity)s %(unit)s of %(product)s from %(branch)s"
    ),
    MovementKind.TRANSFER_IN: gettext_lazy(
        "%(who)s received %(quantity)s %(unit)s of %(product)s at %(branch)s by transfer"
    ),
}


def _movement_text(movement) -> str:
    change = _quantity(movement.delta)
    return str(MOVEMENT_TEXTS[movement.kind]) % {
        "who": movement.actor.get_short_name(),
        "quantity": _quantity(abs(movement.delta)),
        "change": change if movement.delta < 0 else f"+{change}",
        "on_hand": _quantity(movement.on_hand_after),
        "unit": movement.product.unit,
        "product": movement.product.name,
        "branch": movement.branch.code,
    }


def _step_text(step) -> str:
    transfer = step.transfer
    return _("%(source)s → %(destination)s %(reference)s %(step)s by %(who)s") % {
        "source": transfer.from_branch.code,
        "destination": transfer.to_branch.code,
        "reference": transfer.reference,
        "step": STEPS[step.step],
        "who": step.actor.get_short_name(),
    }


def _transfer_url():
    """How to link a transfer's page, while there is one."""
    try:
        reverse("transfer", args=["00000000-0000-0000-0000-000000000000"])
    except NoReverseMatch:
        return None
    return lambda transfer_id: reverse("transfer", args=[transfer_id])


def _quantity(amount: Decimal) -> str:
    """``3`` rather than ``3.000``, ``2,5`` in German."""
    return formats.number_format(
        Decimal(f"{amount.normalize():f}"), use_l10n=True, force_grouping=True
    )


_PARTS = {"cards": _cards, "charts": _charts, "feed": _feed}
