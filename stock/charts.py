"""Charts drawn on the server as SVG, as the dashboard draws its own: the report templates
place the shapes worked out here (``templates/stock/reports/_bars.html`` and
``_stacked.html``), and give every number as text beside them as well.

Two shapes: horizontal bars (a label, a figure and a bar per row, longest bar the largest
value) and stacked columns (one per period, a segment per movement kind).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from stock.models import MovementKind

WIDTH = 400  # of every chart's viewBox; the SVG scales to the width it is given
ROW = 38  # one bar's label and bar
LABEL_CHARACTERS = 34

# Each kind's name in a legend and its colour (distinct for common colour blindness), in
# the dashboard's colours.
KINDS = {
    MovementKind.RECEIPT: (_("Receipts"), "#2e7d32"),
    MovementKind.ISSUE: (_("Issues"), "#1f5fcc"),
    MovementKind.ADJUSTMENT: (_("Adjustments"), "#c05f00"),
    MovementKind.COUNT: (_("Counts"), "#7b3fb5"),
    MovementKind.TRANSFER_OUT: (_("Transfers out"), "#00838f"),
    MovementKind.TRANSFER_IN: (_("Transfers in"), "#ad1457"),
}


def legend() -> list[dict]:
    return [
        {"kind": kind.value, "label": label, "colour": colour}
        for kind, (label, colour) in KINDS.items()
    ]


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    value_text: str
    y: int
    width: float


def bars(rows: list[tuple[str, Decimal, str]]) -> dict:
    """Horizontal bars for ``rows`` of (label, value, value as text), in their order."""
    largest = max((value for _label, value, _text in rows), default=Decimal(0))
    drawn = [
        Bar(
            label=label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1] + "…",
            value=value,
            value_text=text,
            y=n * ROW,
            width=round(float(value / largest) * WIDTH, 1) if largest > 0 else 0,
        )
        for n, (label, value, text) in enumerate(rows)
    ]
    return {"bars": drawn, "height": max(len(drawn), 1) * ROW, "width": WIDTH}


@dataclass(frozen=True)
class Segment:
    kind: str
    label: str
    count: int
    colour: str
    y: float
    height: float


@dataclass(frozen=True)
class Column:
    start: datetime.date
    text: str
    total: int
    x: float
    center: float
    segments: list[Segment]
    summary: str
    tick: bool


# The stacked chart's plot area inside its viewBox.
HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 46, 4, 10, 24
TICKS = 5  # labels on the time axis, at most


def stacked(columns: list[tuple[datetime.date, str, str, dict[str, int]]]) -> dict:
    """One column per (period start, its name, its short name for the time axis, counts by
    kind), stacked in the legend's order, on a scale that ends at a round number."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    totals = [sum(counts.values()) for _start, _text, _short, counts in columns]
    top = nice_ceiling(max(totals, default=0))
    slot = plot_width / max(len(columns), 1)
    bar_width = round(slot * 0.72, 2)
    every = max(1, -(-len(columns) // TICKS))
    drawn = []
    for n, (start, text, short, counts) in enumerate(columns):
        bottom = float(TOP + plot_height)
        segments = []
        for kind, (label, colour) in KINDS.items():
            n_kind = counts.get(kind, 0)
            if not n_kind:
                continue
            height = round(n_kind / top * plot_height, 2)
            bottom -= height
            segments.append(Segment(kind, str(label), n_kind, colour, round(bottom, 2), height))
        parts = ", ".join(f"{s.count} {s.label}" for s in segments) or str(_("no movements"))
        drawn.append(
            Column(
                start=start,
                text=short,
                total=totals[n],
                x=round(LEFT + n * slot + (slot - bar_width) / 2, 2),
                center=round(LEFT + n * slot + slot / 2, 2),
                segments=segments,
                summary=f"{text}: {parts}",
                tick=n % every == 0,
            )
        )
    grid = [
        {"y": round(TOP + plot_height - fraction * plot_height), "label": count(value)}
        for fraction, value in ((0, 0), (0.5, top // 2), (1, top))
    ]
    return {
        "columns": drawn,
        "bar_width": bar_width,
        "grid": grid,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "label_y": HEIGHT - 6,
        "height": HEIGHT,
        "width": WIDTH,
        "total": sum(totals),
    }


def nice_ceiling(value: int) -> int:
    """The smallest of 2, 4, 10, 20, 40, 100, ... at or above ``value``: even, so that half of
    it is a whole number too."""
    step = 2
    while step < value:
        step = step * 5 // 2 if str(step).startswith("4") else step * 2
    return step


def count(value: int) -> str:
    return formats.number_format(int(value), use_l10n=True, force_grouping=True)


def money(value: Decimal) -> str:
    return formats.number_format(value, 2, use_l10n=True, force_grouping=True)
