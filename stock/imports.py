"""Reading spreadsheets to import, and checking stock files row by row.

A file is CSV (UTF-8 with or without a byte-order mark, or Windows-1252/Latin-1, found out
or chosen; comma, semicolon or tab between cells, told by the header line) or XLSX (its first
sheet). Its first row names the columns, in any order and case. Problems with the file as a
whole (encoding, missing columns, too many rows, not a spreadsheet) raise ``FileProblem``;
problems with a row are reported by row and column (``catalog.imports.Report``), every
row checked with the catalog and the branch's levels read once.

The writes (keeping an import, applying it) are in ``stock.services``.
"""

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import permissions
from accounts.permissions import Action
from branches.models import Branch
from catalog.imports import PRODUCT_COLUMNS, Report, check_products, parse_decimal
from catalog.models import Product
from inventory_project.kernel.errors import InvalidInput
from stock.errors import InvalidQuantity
from stock.models import ImportKind, StockImport, StockLevel
from stock.quantities import check_unit, format_quantity, parse_quantity

MAX_ROWS = 100_000
# Records read at most, blank ones included, and cells read of each.
MAX_RECORDS = 2 * MAX_ROWS
MAX_COLUMNS = 100
MAX_BYTES = 20 * 1024 * 1024
NOTE_MAX_LENGTH = 500

STOCK_COLUMNS = (("sku", True), ("quantity", True), ("note", False))
COLUMNS = {
    ImportKind.PRODUCTS: PRODUCT_COLUMNS,
    ImportKind.OPENING_STOCK: STOCK_COLUMNS,
    ImportKind.STOCK_COUNT: STOCK_COLUMNS,
}

ENCODINGS = (
    ("auto", gettext_lazy("Find out (UTF-8, else Windows-1252)")),
    ("utf-8", gettext_lazy("UTF-8")),
    ("cp1252", gettext_lazy("Windows-1252 (Western European)")),
    ("latin-1", gettext_lazy("Latin-1 (ISO-8859-1)")),
)


class FileProblem(InvalidInput):
    """The file as a whole cannot be imported; nothing in it was checked further."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


@dataclass
class Table:
    columns: list[str]
    ignored: list[str]
    # (spreadsheet row number, {column: text}), blank rows left out.
    rows: list[tuple[int, dict[str, str]]]


def read_table(data: bytes, *, file_name: str, kind: str, encoding: str = "auto") -> Table:
    """The rows of the file ``data``, keyed by the kind's columns; FileProblem when the file
    cannot be read or lacks a required column."""
    if len(data) > MAX_BYTES:
        raise FileProblem(
            _("The file is larger than %(size)d MB; split it.") % {"size": MAX_BYTES // 2**20}
        )
    if not data.strip():
        raise FileProblem(_("The file is empty."))
    lower = file_name.lower()
    if data.startswith(b"PK\x03\x04") or lower.endswith((".xlsx", ".xlsm")):
        records = _xlsx_records(data)
    elif lower.endswith(".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(
            _("Old Excel files (.xls) cannot be read; save the sheet as .xlsx or as CSV.")
        )
    else:
        records = _csv_records(decode(data, encoding))
    return _table(records, kind)


def decode(data: bytes, encoding: str) -> str:
    """The text of a CSV file in ``encoding``, or found out (``auto``): UTF-8 with or
    without a byte-order mark, else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem(_("The file is in UTF-16; save it as CSV in UTF-8 and upload it again."))
    if b"\x00" in data[:8192]:
        raise FileProblem(_("This is not a CSV or XLSX file."))
    if encoding in ("auto", "utf-8"):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            if encoding == "utf-8":
                row = data[: error.start].count(b"\n") + 1
                raise FileProblem(
                    _(
                        "The file is not UTF-8 (row %(row)d has the byte 0x%(byte)02X). Choose "
                        "the encoding Windows-1252 or Latin-1, or save the file as UTF-8."
                    )
                    % {"row": row, "byte": data[error.start]}
                ) from None
        encoding = "cp1252"
    if encoding in ("cp1252", "latin-1"):
        if data.startswith(codecs.BOM_UTF8) or (not data.isascii() and _is_utf8(data)):
            raise FileProblem(
                _("The file is UTF-8, not %(encoding)s: choose UTF-8 and upload it again.")
                % {"encoding": "Windows-1252" if encoding == "cp1252" else "Latin-1"}
            )
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as error:
            row = data[: error.start].count(b"\n") + 1
            raise FileProblem(
                _(
                    "The file is neither UTF-8 nor Windows-1252 (row %(row)d has the byte "
                    "0x%(byte)02X). Save it as CSV in UTF-8 and upload it again."
                )
                % {"row": row, "byte": data[error.start]}
            ) from None
    raise FileProblem(_("Unknown encoding %(encoding)s.") % {"encoding": encoding})


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _csv_records(text: str) -> Iterator[list[str]]:
    text = text.removeprefix("\ufeff")
    header = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as error:
        raise FileProblem(
            _("Row %(row)d cannot be read: %(error)s") % {"row": reader.line_num, "error": error}
        ) from None


def _xlsx_records(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except (zipfile.BadZipFile, InvalidFileException, KeyError, IndexError, OSError, ValueError):
        raise FileProblem(_("The file cannot be read as an XLSX workbook.")) from None
    try:
        for values in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            yield [_cell(value) for value in values]
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError):
        raise FileProblem(_("The file cannot be read as an XLSX workbook.")) from None
    finally:
        workbook.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # The shortest text that reads back as the same float: 0.1, not 0.1000000000000000055.
        return format_quantity(Decimal(repr(value))) if value == value else ""
    if isinstance(value, int | Decimal):
        return format_quantity(Decimal(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _table(records: Iterator[list[str]], kind: str) -> Table:
    spec = COLUMNS[kind]
    known = {name for name, _required in spec}
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    positions: list[tuple[int, str]] = []
    ignored: list[str] = []
    for number, record in enumerate(records, start=1):
        if number > MAX_RECORDS:
            raise FileProblem(
                _("The file has more than %(max)s rows; split it into several files.")
                % {"max": f"{MAX_ROWS:,}"}
            )
        record = record[:MAX_COLUMNS]
        if header is None:
            if not any(cell.strip() for cell in record):
                continue
            header = [_column(cell) for cell in record]
            header_row = number
            seen: set[str] = set()
            for index, name in enumerate(header):
                if name in known:
                    if name in seen:
                        raise FileProblem(
                            _("The column %(name)s appears twice in row %(row)d.")
                            % {"name": name, "row": number}
                        )
                    seen.add(name)
                    positions.append((index, name))
                elif name:
                    ignored.append(name)
            missing = [name for name, required in spec if required and name not in seen]
            if missing:
                raise FileProblem(
                    _(
                        "Row %(row)d, the header, lacks the column(s) %(missing)s. The columns "
                        "are: %(columns)s."
                    )
                    % {
                        "row": header_row,
                        "missing": ", ".join(missing),
                        "columns": ", ".join(name for name, _required in spec),
                    }
                )
            continue
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) >= MAX_ROWS:
            raise FileProblem(
                _("The file has more than %(max)s rows; split it into several files.")
                % {"max": f"{MAX_ROWS:,}"}
            )
        rows.append(
            (
                number,
                {name: record[index] if index < len(record) else "" for index, name in positions},
            )
        )
    if header is None:
        raise FileProblem(_("The file is empty."))
    return Table(columns=[name for _index, name in positions], ignored=ignored, rows=rows)


def _column(cell: str) -> str:
    return cell.strip().removeprefix("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")


# Checking ------------------------------------------------------------------------------------


def check(table: Table, *, kind: str, branch: Branch | None, options: dict[str, Any]) -> Report:
    """Every row of ``table`` checked for an import of ``kind``."""
    if kind == ImportKind.PRODUCTS:
        report = check_products(
            table.rows, create_categories=bool(options.get("create_categories"))
        )
    else:
        report = check_stock(table.rows, kind=kind, branch=branch)
    report.extra["columns"] = table.columns
    report.extra["ignored_columns"] = table.ignored
    return report


def check_stock(rows: list[tuple[int, dict[str, str]]], *, kind: str, branch: Branch) -> Report:
    """Every row of an opening stock or a stock count file for ``branch``: two queries
    (the catalog, the branch's levels) however long the file."""
    report = Report(rows_read=len(rows))
    opening = kind == ImportKind.OPENING_STOCK
    products = {
        sku.upper(): (pk, sku, name, unit, active)
        for pk, sku, name, unit, active in Product.objects.values_list(
            "pk", "sku", "name", "unit", "is_active"
        )
    }
    on_hand = dict(StockLevel.objects.filter(branch=branch).values_list("product_id", "on_hand"))
    seen: dict[str, int] = {}
    name = "Quantity" if opening else "Counted quantity"
    for row, cells in rows:
        ok = True

        def fail(column: str, message: str, row: int = row) -> None:
            nonlocal ok
            ok = False
            report.error(row, column, message)

        sku = cells.get("sku", "").strip()
        key = sku.upper()
        product = products.get(key)
        if not sku:
            fail("sku", _("Enter a SKU."))
        elif key in seen:
            fail("sku", _("SKU %(sku)s is also on row %(row)d.") % {"sku": sku, "row": seen[key]})
        elif product is None:
            fail("sku", _("No product has the SKU %(sku)s.") % {"sku": sku})
        elif opening and not product[4]:
            fail(
                "sku",
                _("Product %(sku)s is inactive; it cannot be received.") % {"sku": product[1]},
            )
        if sku:
            seen.setdefault(key, row)

        amount = None
        text = cells.get("quantity", "").strip()
        if not text:
            fail("quantity", _("Enter a quantity."))
        else:
            try:
                amount = parse_quantity(_decimal_text(text), name=name, sign=None)
                if product is not None and amount != amount.to_integral_value():
                    check_unit(amount, Product(sku=product[1], unit=product[3]), name=name)
            except InvalidQuantity as error:
                amount = None
                fail("quantity", error.message)

        note = cells.get("note", "").strip()
        if len(note) > NOTE_MAX_LENGTH:
            fail("note", _("Longer than %(max)d characters.") % {"max": NOTE_MAX_LENGTH})

        if not ok or product is None or amount is None:
            continue
        before = on_hand.get(product[0])
        if opening:
            after = (before or Decimal(0)) + amount
            status = "unchanged" if amount == 0 else "new" if not before else "changed"
        else:
            after = amount
            status = "new" if before is None else "unchanged" if before == amount else "changed"
        report.note_change(
            status,
            {
                "row": row,
                "sku": product[1],
                "name": product[2],
                "unit": product[3],
                "before": format_quantity(before or Decimal(0)),
                "after": format_quantity(after),
            },
        )
        if opening and amount == 0:
            continue
        report.kept.append([row, str(product[0]), str(amount), note])
    if report.error_count:
        report.kept = []
    return report


def _decimal_text(text: str) -> str:
    try:
        return str(parse_decimal(text))
    except ValueError:
        return text


# Reading imports -----------------------------------------------------------------------------


def visible_imports(user) -> QuerySet[StockImport]:
    """The imports ``user`` may look at: an ADMIN every one; a MANAGER those of the
    branches where they count stock (catalog imports are administrators' alone)."""
    # The kept rows can run to megabytes: read by apply_import alone.
    imports = StockImport.objects.select_related("branch", "actor", "applied_by").defer("rows")
    if permissions.is_admin(user):
        return imports
    return imports.filter(branch__in=permissions.branches_where(user, Action.COUNT_STOCK))


def applied_twin(stock_import: StockImport) -> StockImport | None:
    """An applied import of the same file, kind and branch, if any."""
    return (
        StockImport.objects.select_related("applied_by")
        .filter(
            kind=stock_import.kind,
            branch_id=stock_import.branch_id,
            sha256=stock_import.sha256,
            status="APPLIED",
        )
        .exclude(pk=stock_import.pk)
        .order_by("applied_at")
        .first()
    )
