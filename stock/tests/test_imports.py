"""Imports of stock files (opening stock, stock counts) and the reading of every import
file: encodings, delimiters, XLSX, limits, per-row checks, apply all or nothing, idempotency."""

import io
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.models import Product, Unit
from catalog.tests.factories import ProductFactory
from inventory_project.kernel import realtime
from inventory_project.kernel.errors import Conflict, InvalidInput, NotFound, NotPermitted
from stock import imports, services, tasks
from stock.imports import MAX_ROWS, FileProblem
from stock.models import (
    ImportKind,
    ImportStatus,
    MovementKind,
    StockImport,
    StockLevel,
    StockMovement,
)

pytestmark = pytest.mark.django_db

COUNT = ImportKind.STOCK_COUNT
OPENING = ImportKind.OPENING_STOCK


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


def preview(actor, branch, data: bytes, kind=COUNT, name="stock.csv", **options) -> StockImport:
    return services.preview_import(
        actor=actor, kind=kind, file_name=name, data=data, branch_id=branch.pk, **options
    )


def errors_of(stock_import: StockImport) -> list[tuple[int | None, str, str]]:
    return [(e["row"], e["column"], e["message"]) for e in stock_import.errors]


def on_hand(branch, product) -> Decimal:
    level = StockLevel.objects.filter(branch=branch, product=product).first()
    return level.on_hand if level else Decimal(0)


@pytest.fixture
def manager(branch):
    return MembershipFactory(branch=branch, role=Role.MANAGER).user


@pytest.fixture
def apples():
    return ProductFactory(sku="APL-1", unit=Unit.KILOGRAM)


@pytest.fixture
def cola():
    return ProductFactory(sku="COLA-1", unit=Unit.PIECE)


# Reading files ---------------------------------------------------------------------------------


def test_a_utf8_file_with_a_byte_order_mark_reads_its_first_column():
    data = "\ufeffsku,quantity\nA-1,3\n".encode()
    table = imports.read_table(data, file_name="a.csv", kind=COUNT)
    assert table.rows == [(2, {"sku": "A-1", "quantity": "3"})]


def test_a_windows_1252_file_is_found_out_and_read():
    data = csv_bytes("sku;quantity;note", "A-1;3;Café crème", encoding="cp1252")
    table = imports.read_table(data, file_name="a.csv", kind=COUNT)
    assert table.rows[0][1]["note"] == "Café crème"


def test_a_latin1_file_read_as_utf8_is_a_clear_error_naming_the_row():
    data = csv_bytes("sku,quantity,note", "A-1,3,ok", "A-2,4,Crème", encoding="latin-1")
    with pytest.raises(FileProblem, match=r"not UTF-8 \(row 3"):
        imports.read_table(data, file_name="a.csv", kind=COUNT, encoding="utf-8")


def test_a_utf8_file_read_as_windows_1252_is_a_clear_error():
    data = csv_bytes("sku,quantity,note", "A-1,3,Crème")
    with pytest.raises(FileProblem, match="is UTF-8, not Windows-1252"):
        imports.read_table(data, file_name="a.csv", kind=COUNT, encoding="cp1252")


def test_a_utf8_file_with_a_byte_order_mark_read_as_latin1_is_a_clear_error():
    data = "\ufeffsku,quantity\nA-1,3\n".encode()
    with pytest.raises(FileProblem, match="is UTF-8, not Latin-1"):
        imports.read_table(data, file_name="a.csv", kind=COUNT, encoding="latin-1")


def test_a_file_of_blank_rows_without_end_is_refused(monkeypatch):
    monkeypatch.setattr(imports, "MAX_RECORDS", 5)
    with pytest.raises(FileProblem, match="more than"):
        imports.read_table(b"sku,quantity\n" + b",\n" * 10, file_name="a.csv", kind=COUNT)


def test_a_utf16_file_is_asked_to_be_saved_as_utf8():
    data = "sku,quantity\nA-1,3\n".encode("utf-16")
    with pytest.raises(FileProblem, match="UTF-16"):
        imports.read_table(data, file_name="a.csv", kind=COUNT)


def test_a_binary_file_is_not_a_spreadsheet():
    with pytest.raises(FileProblem, match="not a CSV or XLSX"):
        imports.read_table(b"\x00\x01\x02garbage", file_name="a.csv", kind=COUNT)


def test_a_broken_xlsx_file_is_a_clear_error():
    with pytest.raises(FileProblem, match="XLSX"):
        imports.read_table(b"PK\x03\x04broken", file_name="a.xlsx", kind=COUNT)


def test_an_old_xls_file_is_asked_to_be_saved_as_xlsx():
    with pytest.raises(FileProblem, match=r"\.xlsx"):
        imports.read_table(b"\xd0\xcf\x11\xe0rest", file_name="a.xls", kind=COUNT)


def test_semicolons_are_told_from_the_header_and_decimal_commas_read():
    data = csv_bytes("SKU;Quantity", "A-1;2,5")
    table = imports.read_table(data, file_name="a.csv", kind=COUNT)
    assert table.rows == [(2, {"sku": "A-1", "quantity": "2,5"})]


def test_the_first_sheet_of_an_xlsx_workbook_is_read_with_its_numbers_as_typed():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["sku", "quantity", "note"])
    sheet.append(["A-1", 2.5, None])
    sheet.append([None, None, None])
    sheet.append(["A-2", 3, "shelf"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = imports.read_table(buffer.getvalue(), file_name="count.xlsx", kind=COUNT)
    assert table.rows == [
        (2, {"sku": "A-1", "quantity": "2.5", "note": ""}),
        (4, {"sku": "A-2", "quantity": "3", "note": "shelf"}),
    ]


def test_missing_columns_are_one_file_error_listing_them():
    with pytest.raises(FileProblem, match=r"lacks the column.*quantity"):
        imports.read_table(csv_bytes("sku,amount", "A-1,3"), file_name="a.csv", kind=COUNT)


def test_a_column_twice_is_a_file_error():
    data = csv_bytes("sku,quantity,sku", "A-1,3,A-2")
    with pytest.raises(FileProblem, match="appears twice"):
        imports.read_table(data, file_name="a.csv", kind=COUNT)


def test_columns_the_import_does_not_know_are_listed_as_ignored():
    data = csv_bytes("sku,quantity,shelf", "A-1,3,B4")
    table = imports.read_table(data, file_name="a.csv", kind=COUNT)
    assert table.ignored == ["shelf"]


def test_an_empty_file_is_a_file_error():
    with pytest.raises(FileProblem, match="empty"):
        imports.read_table(b"  \n", file_name="a.csv", kind=COUNT)


def test_more_rows_than_the_limit_is_a_file_error():
    data = ("sku,quantity\n" + "A,1\n" * (MAX_ROWS + 1)).encode()
    with pytest.raises(FileProblem, match="more than 100,000 rows"):
        imports.read_table(data, file_name="a.csv", kind=COUNT)


def test_a_file_larger_than_the_limit_is_refused_before_reading(monkeypatch):
    monkeypatch.setattr(imports, "MAX_BYTES", 10)
    with pytest.raises(FileProblem, match="larger than"):
        imports.read_table(csv_bytes("sku,quantity", "A-1,3"), file_name="a.csv", kind=COUNT)


# Checking stock rows -------------------------------------------------------------------------


def test_every_bad_row_of_a_count_is_reported_by_row_and_column(actor, branch, cola, apples):
    data = csv_bytes(
        "sku,quantity,note",
        "COLA-1,3,",
        "cola-1,4,",
        "NOPE,1,",
        "APL-1,-2,",
        "COLA-1,",
        ",5,",
        f"APL-1,1.5,{'x' * 501}",
    )
    # Row 3 repeats row 2's SKU whatever its case; row 6 repeats it again.
    found = errors_of(preview(actor, branch, data))
    assert found == [
        (3, "sku", "SKU cola-1 is also on row 2."),
        (4, "sku", "No product has the SKU NOPE."),
        (5, "quantity", "Counted quantity cannot be negative."),
        (6, "sku", "SKU COLA-1 is also on row 2."),
        (6, "quantity", "Enter a quantity."),
        (7, "sku", "Enter a SKU."),
        (8, "sku", "SKU APL-1 is also on row 5."),
        (8, "note", "Longer than 500 characters."),
    ]


def test_fractions_of_countable_units_and_bad_numbers_are_row_errors(actor, branch, cola, apples):
    data = csv_bytes("sku,quantity", "COLA-1,1.5", "APL-1,abc")
    found = errors_of(preview(actor, branch, data))
    assert found[0][:2] == (2, "quantity")
    assert "whole number of pieces" in found[0][2]
    assert found[1][:2] == (3, "quantity")
    assert "must be a number" in found[1][2]


def test_numbers_too_large_or_not_finite_are_row_errors(actor, branch, cola, apples):
    data = csv_bytes("sku,quantity", "COLA-1,1e999", "APL-1,NaN")
    found = errors_of(preview(actor, branch, data))
    assert [(row, column) for row, column, _message in found] == [(2, "quantity"), (3, "quantity")]


def test_a_file_with_errors_keeps_no_rows_to_apply(actor, branch, cola):
    stock_import = preview(actor, branch, csv_bytes("sku,quantity", "COLA-1,3", "NOPE,1"))
    assert stock_import.rows == []
    assert stock_import.error_count == 1
    with pytest.raises(InvalidInput, match="rows in error"):
        services.apply_import(actor=actor, import_id=stock_import.pk)
    assert not StockMovement.objects.exists()


def test_the_preview_counts_new_changed_and_unchanged_rows(actor, branch, cola, apples):
    services.receive_stock(actor=actor, branch_id=branch.pk, product_id=cola.pk, quantity=5)
    other = ProductFactory(sku="OTHER")
    services.receive_stock(actor=actor, branch_id=branch.pk, product_id=other.pk, quantity=2)
    data = csv_bytes("sku,quantity", "COLA-1,7", "OTHER,2", "APL-1,1.25")
    summary = preview(actor, branch, data).summary
    assert (summary["rows"], summary["new"], summary["changed"], summary["unchanged"]) == (
        3,
        1,
        1,
        1,
    )
    assert [(c["sku"], c["before"], c["after"]) for c in summary["sample"]] == [
        ("COLA-1", "5", "7"),
        ("APL-1", "0", "1.25"),
    ]


def test_only_the_first_errors_are_kept_with_the_count_of_all(actor, branch):
    data = ("sku,quantity\n" + "NOPE,1\n" * 500).encode()
    stock_import = preview(actor, branch, data)
    assert len(stock_import.errors) == 200
    assert stock_import.error_count == 500


def test_checking_reads_the_same_number_of_queries_whatever_the_length(actor, branch):
    def queries(count: int) -> int:
        products = ProductFactory.create_batch(count)
        lines = ["sku,quantity"] + [f"{p.sku},{n}" for n, p in enumerate(products)]
        table = imports.read_table(csv_bytes(*lines), file_name="a.csv", kind=COUNT)
        with CaptureQueriesContext(connection) as captured:
            imports.check(table, kind=COUNT, branch=branch, options={})
        return len(captured)

    assert queries(3) == queries(60) == 2


# Applying ------------------------------------------------------------------------------------


def test_a_count_applied_records_count_movements_and_sets_on_hand(manager, branch, cola, apples):
    data = csv_bytes("sku,quantity,note", "COLA-1,12,back shelf", "APL-1,2.5,")
    stock_import = preview(manager, branch, data)
    applied, now = services.apply_import(actor=manager, import_id=stock_import.pk)
    assert now
    assert applied.status == ImportStatus.APPLIED
    assert applied.applied_by == manager
    assert on_hand(branch, cola) == 12
    assert on_hand(branch, apples) == Decimal("2.5")
    movement = StockMovement.objects.get(product=cola)
    assert (movement.kind, movement.note) == (MovementKind.COUNT, "back shelf")


def test_opening_stock_is_received_and_rows_of_zero_are_left_out(manager, branch, cola, apples):
    data = csv_bytes("sku,quantity", "COLA-1,10", "APL-1,0")
    stock_import = preview(manager, branch, data, kind=OPENING)
    assert stock_import.summary["unchanged"] == 1
    services.apply_import(actor=manager, import_id=stock_import.pk)
    assert on_hand(branch, cola) == 10
    assert list(StockMovement.objects.values_list("kind", flat=True)) == [MovementKind.RECEIPT]


def test_applying_the_same_preview_twice_records_once(manager, branch, cola):
    stock_import = preview(manager, branch, csv_bytes("sku,quantity", "COLA-1,4"), kind=OPENING)
    services.apply_import(actor=manager, import_id=stock_import.pk)
    again, now = services.apply_import(actor=manager, import_id=stock_import.pk)
    assert not now
    assert again.status == ImportStatus.APPLIED
    assert on_hand(branch, cola) == 4


def test_the_same_file_uploaded_again_after_applying_says_when_and_by_whom(manager, branch, cola):
    data = csv_bytes("sku,quantity", "COLA-1,4")
    first = preview(manager, branch, data, kind=OPENING)
    services.apply_import(actor=manager, import_id=first.pk)
    second = preview(manager, branch, data, kind=OPENING, name="again.csv")
    assert second.rows == []
    assert imports.applied_twin(second) == first
    with pytest.raises(Conflict, match=r"already applied on .* by "):
        services.apply_import(actor=manager, import_id=second.pk)
    assert on_hand(branch, cola) == 4


def test_two_previews_of_one_file_apply_once(manager, branch, cola):
    data = csv_bytes("sku,quantity", "COLA-1,4")
    first = preview(manager, branch, data, kind=OPENING)
    second = preview(manager, branch, data, kind=OPENING)
    services.apply_import(actor=manager, import_id=first.pk)
    with pytest.raises(Conflict, match="already applied"):
        services.apply_import(actor=manager, import_id=second.pk)
    assert on_hand(branch, cola) == 4


def test_the_same_file_at_another_branch_is_another_import(actor, branch, cola):
    data = csv_bytes("sku,quantity", "COLA-1,4")
    services.apply_import(actor=actor, import_id=preview(actor, branch, data, kind=OPENING).pk)
    elsewhere = BranchFactory()
    services.apply_import(actor=actor, import_id=preview(actor, elsewhere, data, kind=OPENING).pk)
    assert on_hand(elsewhere, cola) == 4


def test_a_product_deactivated_after_the_preview_refuses_the_whole_receipt(
    manager, branch, cola, apples
):
    data = csv_bytes("sku,quantity", "APL-1,1", "COLA-1,4")
    stock_import = preview(manager, branch, data, kind=OPENING)
    Product.objects.filter(pk=cola.pk).update(is_active=False)
    with pytest.raises(Conflict, match=r"^Row 3: Product COLA-1 is inactive") as refused:
        services.apply_import(actor=manager, import_id=stock_import.pk)
    assert refused.value.field == "rows.3.sku"
    assert not StockMovement.objects.exists()
    assert StockImport.objects.get(pk=stock_import.pk).status == ImportStatus.PREVIEWED


def test_staff_may_not_import_stock(branch, cola):
    staff = MembershipFactory(branch=branch, role=Role.STAFF).user
    with pytest.raises(NotPermitted):
        preview(staff, branch, csv_bytes("sku,quantity", "COLA-1,4"), kind=OPENING)


def test_a_manager_of_another_branch_finds_no_such_branch(branch, cola):
    other = MembershipFactory(role=Role.MANAGER).user
    with pytest.raises(NotFound):
        preview(other, branch, csv_bytes("sku,quantity", "COLA-1,4"))


def test_a_manager_of_another_branch_cannot_apply_this_branchs_import(manager, branch, cola):
    stock_import = preview(manager, branch, csv_bytes("sku,quantity", "COLA-1,4"))
    other = MembershipFactory(role=Role.MANAGER).user
    with pytest.raises(NotFound):
        services.apply_import(actor=other, import_id=stock_import.pk)


def test_an_inactive_branch_takes_no_import(actor, cola):
    closed = BranchFactory(is_active=False)
    with pytest.raises(Conflict, match="inactive"):
        preview(actor, closed, csv_bytes("sku,quantity", "COLA-1,4"))


def test_an_unknown_import_is_not_found(actor):
    with pytest.raises(NotFound):
        services.apply_import(actor=actor, import_id="not-a-uuid")


# The big import --------------------------------------------------------------------------------


def test_record_stock_import_names_a_line_counted_over_the_whole_import(actor, branch):
    products = ProductFactory.create_batch(services.MAX_BATCH_LINES + 3)
    lines = [services.MovementLine(product_id=p.pk, quantity="1") for p in products]
    lines[-1] = services.MovementLine(product_id=products[-1].pk, quantity="0.5")
    with pytest.raises(InvalidInput) as refused:
        services.record_stock_import(
            actor=actor, branch_id=branch.pk, kind=MovementKind.COUNT, lines=lines
        )
    number = services.MAX_BATCH_LINES + 2
    assert refused.value.field == f"lines.{number}.quantity"
    assert refused.value.message.startswith(f"Line {number + 1}:")
    assert not StockMovement.objects.exists()


def test_record_stock_import_refuses_a_product_twice(actor, branch, cola):
    lines = [services.MovementLine(product_id=cola.pk, quantity="1")] * 2
    with pytest.raises(InvalidInput, match="Line 1 is for the same product"):
        services.record_stock_import(
            actor=actor, branch_id=branch.pk, kind=MovementKind.RECEIPT, lines=lines
        )


def test_record_stock_import_takes_receipts_and_counts_only(actor, branch, cola):
    lines = [services.MovementLine(product_id=cola.pk, quantity="1")]
    with pytest.raises(InvalidInput, match="is not one of"):
        services.record_stock_import(
            actor=actor, branch_id=branch.pk, kind=MovementKind.ISSUE, lines=lines
        )


@pytest.mark.slow
def test_a_count_of_100000_rows_previews_and_a_worker_applies_all_of_them(
    actor, branch, postgres, monkeypatch, queued, django_capture_on_commit_callbacks
):
    count = MAX_ROWS
    # The live events are counted here, not checked against the protocol one by one (the
    # shorter imports' are): checking 100,000 would take minutes.
    announced = []
    monkeypatch.setattr(realtime, "publish_after_commit", lambda *events: announced.extend(events))
    Product.objects.bulk_create(
        [Product(sku=f"BIG-{n:06d}", name=f"Big {n}", unit=Unit.PIECE) for n in range(count)],
        batch_size=5000,
    )
    data = ("sku,quantity\n" + "".join(f"BIG-{n:06d},{n % 7}\n" for n in range(count))).encode()
    started = time.monotonic()
    with CaptureQueriesContext(connection) as captured:
        stock_import = preview(actor, branch, data)
    time.monotonic() - started
    assert stock_import.error_count == 0
    assert len(stock_import.rows) == count
    assert len(captured) < 10
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_import(actor=actor, import_id=stock_import.pk)
    started = time.monotonic()
    # Longer than a web request may take (gunicorn's timeout, 30 s); well within the task's.
    assert run_queued(queued) == ["applied"]
    assert time.monotonic() - started < tasks.APPLY_SOFT_TIME_LIMIT
    assert StockMovement.objects.filter(branch=branch, kind=MovementKind.COUNT).count() == count
    assert on_hand(branch, Product.objects.get(sku="BIG-000013")) == 6
    assert len(announced) == count


@pytest.mark.slow
def test_100000_rows_with_an_error_in_the_last_apply_nothing(actor, branch, postgres):
    count = MAX_ROWS
    Product.objects.bulk_create(
        [Product(sku=f"BIG-{n:06d}", name=f"Big {n}", unit=Unit.PIECE) for n in range(count)],
        batch_size=5000,
    )
    rows = [f"BIG-{n:06d},1\n" for n in range(count - 1)] + ["BIG-000000,1\n"]
    stock_import = preview(actor, branch, ("sku,quantity\n" + "".join(rows)).encode())
    assert errors_of(stock_import) == [(count + 1, "sku", "SKU BIG-000000 is also on row 2.")]
    assert not StockMovement.objects.exists()


def test_an_admin_may_import_stock_anywhere(branch, cola):
    admin = AdminFactory()
    stock_import = preview(admin, branch, csv_bytes("sku,quantity", "COLA-1,4"), kind=OPENING)
    assert services.apply_import(actor=admin, import_id=stock_import.pk)[1]


# Applying in a worker -------------------------------------------------------------------------


@pytest.fixture
def queued(monkeypatch):
    """The messages handed to the broker for stock.tasks.apply_import, in order."""
    sent: list[tuple] = []
    monkeypatch.setattr(tasks.apply_import, "delay", lambda *args: sent.append(args))
    return sent


def run_queued(queued: list[tuple]) -> list[str]:
    """What a worker does with each message queued so far."""
    return [tasks.apply_import(*message) for message in queued]


def test_queueing_marks_the_import_applying_and_hands_it_over_once_committed(
    manager, branch, cola, queued, django_capture_on_commit_callbacks
):
    stock_import = preview(manager, branch, csv_bytes("sku,quantity", "COLA-1,7"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        asked = services.queue_import(actor=manager, import_id=stock_import.pk)
        assert queued == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    assert asked.status == ImportStatus.APPLYING
    assert (asked.apply_requested_by, asked.apply_error) == (manager, "")
    assert queued == [(str(stock_import.pk), str(manager.pk), "en")]
    assert not StockMovement.objects.exists()


def test_the_worker_applies_a_queued_import(
    manager, branch, cola, queued, django_capture_on_commit_callbacks
):
    stock_import = preview(manager, branch, csv_bytes("sku,quantity", "COLA-1,7"))
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_import(actor=manager, import_id=stock_import.pk)
    assert run_queued(queued) == ["applied"]
    stock_import.refresh_from_db()
    assert stock_import.status == ImportStatus.APPLIED
    assert stock_import.applied_by == manager
    assert on_hand(branch, cola) == 7


def test_a_task_delivered_twice_applies_once(
    manager, branch, cola, queued, django_capture_on_commit_callbacks
):
    stock_import = preview(manager, branch, csv_bytes("sku,quantity", "COLA-1,7"), kind=OPENING)
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_import(actor=manager, import_id=stock_import.pk)
    assert run_queued(queued * 2) == ["applied", "already applied"]
    assert on_hand(branch, cola) == 7
    assert StockMovement.objects.count() == 1


def test_asking_again_while_it_is_being_applied_queues_nothing_more(
    manager, branch, cola, queued, django_capture_on_commit_callbacks
):
    stock_import = preview(manager, branch, csv_bytes("sku,quantity", "COLA-1,7"))
    with django_capture_on_commit_callbacks(execute=True):
        first = services.queue_import(actor=manager, import_id=stock_import.pk)
        second = services.queue_import(actor=manager, import_id=stock_import.pk)
    assert second.status == ImportStatus.APPLYING
    assert second.apply_requested_at == first.apply_requested_at
    assert len(queued) == 1


def test_asking_once_it_was_applied_answers_it_as_applied(
    manager, branch, cola, queued, django_capture_on_commit_callbacks
):
    stock_import = preview(manager, branch, csv_bytes("sku,quantity", "COLA-1,7"))
    services.apply_import(actor=manager, import_id=stock_import.pk)
    with django_capture_on_commit_callbacks(execute=True):
        answered = services.queue_import(actor=manager, import_id=stock_import.pk)
    assert answered.status == ImportStatus.APPLIED
    assert queued == []


def test_an_import_whose_worker_died_is_queued_again_once_its_lease_ran_out(
    manager, branch, cola, queued, django_capture_on_commit_callbacks
):
    stock_import = preview(manager, branch, csv_bytes("sku,quantity", "COLA-1,7"))
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_import(actor=manager, import_id=stock_import.pk)
    stock_import.refresh_from_db()
    assert services.import_being_applied(stock_import)
    # The worker was killed: its message is in limbo, the import left APPLYING.
    lease_over = stock_import.apply_requested_at + services.IMPORT_APPLY_LEASE
    assert not services.import_being_applied(stock_import, now=lease_over)
    StockImport.objects.filter(pk=stock_import.pk).update(
        apply_requested_at=stock_import.apply_requested_at - services.IMPORT_APPLY_LEASE
    )
    with django_capture_on_commit_callbacks(execute=True):
        again = services.queue_import(actor=manager, import_id=stock_import.pk)
    assert services.import_being_applied(again)
    assert len(queued) == 2
    # The new message and the dead worker's, redelivered at last: applied once.
    assert sorted(run_queued(queued)) == ["already applied", "applied"]
    assert on_hand(branch, cola) == 7
    assert StockMovement.objects.count() == 1


def test_the_lease_outlasts_the_time_a_worker_may_spend_applying():
    assert services.IMPORT_APPLY_LEASE.total_seconds() > tasks.APPLY_TIME_LIMIT
    assert tasks.APPLY_SOFT_TIME_LIMIT < tasks.APPLY_TIME_LIMIT


def test_an_unreachable_queue_puts_the_import_back_saying_so(
    manager, branch, cola, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    def unreachable(*args):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(tasks.apply_import, "delay", unreachable)
    stock_import = preview(manager, branch, csv_bytes("sku,quantity", "COLA-1,7"))
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_import(actor=manager, import_id=stock_import.pk)
    stock_import.refresh_from_db()
    assert stock_import.status == ImportStatus.PREVIEWED
    assert "could not be handed to the worker" in stock_import.apply_error
    assert not StockMovement.objects.exists()


def test_a_rule_broken_by_the_time_the_worker_applies_is_kept_on_the_import(
    manager, branch, cola, queued, django_capture_on_commit_callbacks
):
    stock_import = preview(manager, branch, csv_bytes("sku,quantity", "COLA-1,7"), kind=OPENING)
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_import(actor=manager, import_id=stock_import.pk)
    Product.objects.filter(pk=cola.pk).update(is_active=False)
    assert run_queued(queued) == ["refused"]
    stock_import.refresh_from_db()
    assert stock_import.status == ImportStatus.PREVIEWED
    assert stock_import.apply_error == "Row 2: Product COLA-1 is inactive; it cannot be received."
    assert not StockMovement.objects.exists()
    # Put right, it is applied when asked again, and the reason is gone.
    Product.objects.filter(pk=cola.pk).update(is_active=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_import(actor=manager, import_id=stock_import.pk)
    assert run_queued(queued[1:]) == ["applied"]
    stock_import.refresh_from_db()
    assert (stock_import.status, stock_import.apply_error) == (ImportStatus.APPLIED, "")


def test_a_refusal_is_kept_in_the_language_of_whoever_asked(
    manager, branch, cola, queued, django_capture_on_commit_callbacks
):
    from django.utils import translation

    stock_import = preview(manager, branch, csv_bytes("sku,quantity", "COLA-1,7"), kind=OPENING)
    with translation.override("de"), django_capture_on_commit_callbacks(execute=True):
        services.queue_import(actor=manager, import_id=stock_import.pk)
    Product.objects.filter(pk=cola.pk).update(is_active=False)
    run_queued(queued)
    stock_import.refresh_from_db()
    assert stock_import.apply_error.startswith("Zeile 2: ")


def test_a_worker_stopped_at_its_time_limit_writes_nothing_and_says_so(
    manager, branch, cola, queued, monkeypatch, django_capture_on_commit_callbacks
):
    from celery.exceptions import SoftTimeLimitExceeded

    stock_import = preview(manager, branch, csv_bytes("sku,quantity", "COLA-1,7"), kind=OPENING)
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_import(actor=manager, import_id=stock_import.pk)

    def too_long(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(services, "record_stock_import", too_long)
    assert run_queued(queued) == ["refused"]
    stock_import.refresh_from_db()
    assert stock_import.status == ImportStatus.PREVIEWED
    assert "took longer than 9 minutes" in stock_import.apply_error
    assert not StockMovement.objects.exists()


def test_queueing_is_refused_as_applying_is(manager, branch, cola, queued):
    bad = preview(manager, branch, csv_bytes("sku,quantity", "COLA-1,-1"))
    with pytest.raises(InvalidInput, match="rows in error"):
        services.queue_import(actor=manager, import_id=bad.pk)
    with pytest.raises(NotFound):
        services.queue_import(actor=manager, import_id="not-a-uuid")
    elsewhere = preview(AdminFactory(), BranchFactory(), csv_bytes("sku,quantity", "COLA-1,1"))
    with pytest.raises(NotFound):
        services.queue_import(actor=manager, import_id=elsewhere.pk)
    assert queued == []
    assert not StockImport.objects.filter(status=ImportStatus.APPLYING).exists()


def test_a_second_upload_of_a_file_being_applied_is_refused(
    manager, branch, cola, queued, django_capture_on_commit_callbacks
):
    data = csv_bytes("sku,quantity", "COLA-1,7")
    first = preview(manager, branch, data, kind=OPENING)
    second = preview(manager, branch, data, kind=OPENING, name="again.csv")
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_import(actor=manager, import_id=first.pk)
    with pytest.raises(Conflict, match="being applied from another upload"):
        services.queue_import(actor=manager, import_id=second.pk)
    assert len(queued) == 1


def test_asking_and_the_worker_read_the_same_queries_whatever_the_rows(
    manager, branch, queued, django_capture_on_commit_callbacks
):
    def counts(size: int) -> tuple[int, int]:
        queued.clear()
        # No threshold: no level crosses one, so no alert is raised or resolved.
        products = ProductFactory.create_batch(size, low_stock_threshold=0)
        data = "sku,quantity\n" + "".join(f"{p.sku},{n + 1}\n" for n, p in enumerate(products))
        stock_import = preview(manager, branch, data.encode())
        with (
            CaptureQueriesContext(connection) as asking,
            django_capture_on_commit_callbacks(execute=True),
        ):
            services.queue_import(actor=manager, import_id=stock_import.pk)
        with CaptureQueriesContext(connection) as applying:
            assert run_queued(queued) == ["applied"]
        assert on_hand(branch, products[-1]) == size
        return len(asking), len(applying)

    assert counts(3) == counts(40)
