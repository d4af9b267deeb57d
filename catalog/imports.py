"""Checking the rows of a products file against the catalog, before anything is written.

The spreadsheet itself is read elsewhere (``stock.imports``): here every row arrives as its
spreadsheet row number and a dict of the columns the file has, as text. Every row is
checked, with the catalog read once (two queries however long the file), and each problem is
reported by row and column. What passes is kept as plain data for ``import_catalog``.

Decisions the format documents:

- A product is found by its SKU, whatever its case; a row for an unknown SKU adds one.
- An empty optional cell leaves an existing product's value as it is (a new product gets the
  default): a file with only ``sku`` and ``name`` renames without touching prices.
- A category named in the ``category`` column that does not exist is an error, unless the
  upload asked to create missing categories: then it is created, and listed in the preview.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from catalog.models import (
    MAX_QUANTITY,
    QUANTITY_DECIMAL_PLACES,
    Category,
    Product,
    Unit,
)

# Errors listed in full; beyond these only their number is kept.
MAX_SHOWN_ERRORS = 200
# Changes listed in the preview.
SAMPLE_SIZE = 20

SKU_MAX = Product._meta.get_field("sku").max_length
NAME_MAX = Product._meta.get_field("name").max_length
BARCODE_MAX = Product._meta.get_field("barcode").max_length
CATEGORY_MAX = Category._meta.get_field("name").max_length
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
BARCODE_PATTERN = re.compile(r"^[!-~]+$")
PRICE_MAX = Decimal("9999999999.99")

# The columns of a products file: name, required.
PRODUCT_COLUMNS = (
    ("sku", True),
    ("name", True),
    ("category", False),
    ("unit", False),
    ("cost_price", False),
    ("sale_price", False),
    ("barcode", False),
    ("low_stock_threshold", False),
)
# The product fields a row may set, in the order a change lists them.
PRODUCT_FIELDS = (
    "name",
    "category",
    "unit",
    "cost_price",
    "sale_price",
    "barcode",
    "low_stock_threshold",
)


@dataclass
class Report:
    """What checking a file found: per-row errors (the first MAX_SHOWN_ERRORS in full),
    counts of new, changed and unchanged rows, a sample of the changes and the rows kept."""

    rows_read: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    error_rows: set[int] = field(default_factory=set)
    counts: Counter = field(default_factory=Counter)
    sample: list[dict[str, Any]] = field(default_factory=list)
    kept: list[Any] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def error(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        self.error_rows.add(row)
        if len(self.errors) < MAX_SHOWN_ERRORS:
            self.errors.append({"row": row, "column": column, "message": message})

    def note_change(self, status: str, change: dict[str, Any]) -> None:
        self.counts[status] += 1
        if status != "unchanged" and len(self.sample) < SAMPLE_SIZE:
            self.sample.append({"status": status, **change})

    def summary(self) -> dict[str, Any]:
        return {
            "rows": self.rows_read,
            "new": self.counts["new"],
            "changed": self.counts["changed"],
            "unchanged": self.counts["unchanged"],
            "error_rows": len(self.error_rows),
            "to_apply": 0 if self.error_count else len(self.kept),
            "sample": self.sample,
            **self.extra,
        }


def parse_decimal(text: str) -> Decimal:
    """A number as a spreadsheet writes it: ``2.5``, or ``2,5`` with a decimal comma.
    Raises ValueError."""
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." not in text and text.count(",") == 1:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def _amount(text: str, *, places: int, maximum: Decimal) -> tuple[Decimal | None, str]:
    """(value, "") or (None, why not) for a non-negative amount."""
    try:
        value = parse_decimal(text)
    except ValueError:
        return None, _("%(value)s is not a number.") % {"value": text}
    if value < 0:
        return None, _("Cannot be negative.")
    # Before rounding: a number as large as 1e999 cannot be rounded to cents at all.
    if value > maximum:
        return None, _("Larger than %(max)s.") % {"max": maximum}
    if value != value.quantize(Decimal(1).scaleb(-places)):
        return None, _("Has more than %(places)d decimal places.") % {"places": places}
    return value.quantize(Decimal(1).scaleb(-places)), ""


_UNITS = {unit.value.lower(): unit.value for unit in Unit} | {
    str(unit.label).lower(): unit.value for unit in Unit
}


def check_products(rows: list[tuple[int, dict[str, str]]], *, create_categories: bool) -> Report:
    """Check every row of a products file; two queries (categories, products) whatever
    its length, a third only when a row changes the unit of an existing product."""
    report = Report(rows_read=len(rows))
    categories = {name.lower(): name for name in Category.objects.values_list("name", flat=True)}
    existing: dict[str, dict[str, Any]] = {}
    barcodes: dict[str, str] = {}
    for values in Product.objects.values(
        "id",
        "sku",
        "name",
        "category__name",
        "unit",
        "cost_price",
        "sale_price",
        "barcode",
        "low_stock_threshold",
    ):
        existing[values["sku"].upper()] = values
        if values["barcode"]:
            barcodes[values["barcode"]] = values["sku"].upper()

    seen_skus: dict[str, int] = {}
    seen_barcodes: dict[str, int] = {}
    new_categories: dict[str, str] = {}
    unit_changes: dict[str, int] = {}
    pending: list[tuple[int, str, dict[str, Any], dict[str, Any] | None, dict[str, Any]]] = []

    for row, cells in rows:
        values: dict[str, Any] = {}
        ok = True

        def fail(column: str, message: str, row: int = row) -> None:
            nonlocal ok
            ok = False
            report.error(row, column, message)

        sku = cells.get("sku", "").strip()
        key = sku.upper()
        current = existing.get(key)
        if not sku:
            fail("sku", _("Enter a SKU."))
        elif len(sku) > SKU_MAX:
            fail("sku", _("Longer than %(max)d characters.") % {"max": SKU_MAX})
        elif not SKU_PATTERN.match(sku):
            fail("sku", _("Letters, digits and . _ / - only, starting with a letter or digit."))
        elif key in seen_skus:
            fail(
                "sku",
                _("SKU %(sku)s is also on row %(row)d.") % {"sku": sku, "row": seen_skus[key]},
            )
        if sku and key not in seen_skus:
            seen_skus[key] = row

        name = cells.get("name", "").strip()
        if not name:
            fail("name", _("Enter a name."))
        elif len(name) > NAME_MAX:
            fail("name", _("Longer than %(max)d characters.") % {"max": NAME_MAX})
        else:
            values["name"] = name

        category = cells.get("category", "").strip()
        if category:
            if len(category) > CATEGORY_MAX:
                fail("category", _("Longer than %(max)d characters.") % {"max": CATEGORY_MAX})
            elif category.lower() in categories:
                values["category"] = categories[category.lower()]
            elif create_categories:
                values["category"] = new_categories.setdefault(category.lower(), category)
            else:
                fail(
                    "category",
                    _(
                        "No category named %(name)s. Correct it, or upload again asking to "
                        "create missing categories."
                    )
                    % {"name": category},
                )

        unit = cells.get("unit", "").strip()
        if unit:
            if unit.lower() in _UNITS:
                values["unit"] = _UNITS[unit.lower()]
            else:
                fail(
                    "unit",
                    _("%(unit)s is not a unit; use one of: %(units)s.")
                    % {"unit": unit, "units": ", ".join(Unit.values)},
                )

        for column, places, maximum in (
            ("cost_price", 2, PRICE_MAX),
            ("sale_price", 2, PRICE_MAX),
            ("low_stock_threshold", QUANTITY_DECIMAL_PLACES, MAX_QUANTITY),
        ):
            text = cells.get(column, "").strip()
            if text:
                value, problem = _amount(text, places=places, maximum=maximum)
                if problem:
                    fail(column, problem)
                else:
                    values[column] = value

        barcode = cells.get("barcode", "").strip()
        if barcode:
            if len(barcode) > BARCODE_MAX:
                fail("barcode", _("Longer than %(max)d characters.") % {"max": BARCODE_MAX})
            elif not BARCODE_PATTERN.match(barcode):
                fail("barcode", _("Printable characters without spaces only."))
            elif barcode in seen_barcodes:
                fail(
                    "barcode",
                    _("Barcode %(barcode)s is also on row %(row)d.")
                    % {"barcode": barcode, "row": seen_barcodes[barcode]},
                )
            elif barcodes.get(barcode, key) != key:
                fail(
                    "barcode",
                    _("Product %(sku)s already has the barcode %(barcode)s.")
                    % {"sku": existing[barcodes[barcode]]["sku"], "barcode": barcode},
                )
            else:
                values["barcode"] = barcode
            seen_barcodes.setdefault(barcode, row)

        if not ok:
            continue
        changes = _changes(current, values)
        if current is not None and "unit" in changes:
            unit_changes[str(current["id"])] = row
        pending.append((row, current["sku"] if current else sku, values, current, changes))

    if unit_changes:
        held = Product.objects.filter(pk__in=list(unit_changes)).filter(
            Q(stock_levels__isnull=False) | Q(stock_movements__isnull=False)
        )
        for product_id, sku in held.values_list("pk", "sku").distinct():
            report.error(
                unit_changes[str(product_id)],
                "unit",
                _(
                    "Product %(sku)s has stock history; its unit cannot change. Deactivate "
                    "it and add a new product instead."
                )
                % {"sku": sku},
            )

    used: set[str] = set()
    for row, sku, values, current, changes in pending:
        if row in report.error_rows:
            continue
        if "category" in values:
            used.add(values["category"].lower())
        status = "new" if current is None else "changed" if changes else "unchanged"
        report.note_change(
            status,
            {
                "row": row,
                "sku": sku,
                "changes": [
                    {
                        "field": name,
                        "before": _shown(before, name),
                        "after": _shown(after, name),
                    }
                    for name, (before, after) in changes.items()
                ],
            },
        )
        if status != "unchanged":
            report.kept.append(
                {
                    "row": row,
                    "sku": sku,
                    "fields": {name: _stored(value) for name, value in values.items()},
                }
            )
    report.extra["new_categories"] = sorted(
        name for key, name in new_categories.items() if key in used
    )
    if report.error_count:
        report.kept = []
    return report


def _changes(current: dict[str, Any] | None, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields whose value the row changes, as (before, after); every field set, for a
    new product."""
    if current is None:
        return {name: (None, values[name]) for name in PRODUCT_FIELDS if name in values}
    before = {**current, "category": current["category__name"]}
    return {
        name: (before[name], values[name])
        for name in PRODUCT_FIELDS
        if name in values and before[name] != values[name]
    }


def _shown(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        # Prices as money is written (0.90); quantities without trailing zeros (2.5).
        return f"{value:.2f}" if name.endswith("_price") else f"{value.normalize():f}"
    return str(value)


def _stored(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value
