"""The audit export and the report pages in a real browser (fixtures in conftest.py): the
ledger's CSV download holds exactly the rows the filtered page lists, a past day's stock
value shows its figure once the day is picked, and every report fits a wide and a phone's
window (screenshots saved where the other browser tests save theirs)."""

import csv
import datetime
import io
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.tests.factories import ManagerFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import CategoryFactory, ProductFactory
from inventory_project.tests.browser import NARROW, WIDE, horizontal_overflow
from stock import services

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

UTC = datetime.UTC


def at(moment: datetime.datetime):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def receive(manager, branch, product, quantity, moment=None):
    with at(moment or datetime.datetime.now(UTC)):
        return services.receive_stock(
            actor=manager, branch_id=branch.pk, product_id=product.pk, quantity=Decimal(quantity)
        )


def issue(manager, branch, product, quantity, moment=None):
    with at(moment or datetime.datetime.now(UTC)):
        return services.issue_stock(
            actor=manager, branch_id=branch.pk, product_id=product.pk, quantity=Decimal(quantity)
        )


def test_the_audit_export_downloads_exactly_the_filtered_rows(open_page, branch):
    manager = ManagerFactory(branch=branch).user
    apples, pears = ProductFactory(sku="APL-1", name="Apples"), ProductFactory(name="Pears")
    for product in (apples, pears):
        receive(manager, branch, product, "20")
        for quantity in ("1", "2", "3"):
            issue(manager, branch, product, quantity)
    page = open_page(manager, reverse("audit"))

    page.locator("#audit-product").fill("APL-1")
    page.locator("#audit-kind").select_option("ISSUE")
    page.get_by_role("button", name="Apply").click()
    rows = page.locator("#audit-results tbody tr")
    expect(rows).to_have_count(3)
    shown = [
        row_id.removeprefix("movement-") for row_id in rows.evaluate_all("rs => rs.map(r => r.id)")
    ]
    with page.expect_download() as arrival:
        page.locator("#audit-export").click()
    download = arrival.value
    text = Path(download.path()).read_text(encoding="utf-8")

    exported = list(csv.DictReader(io.StringIO(text)))
    assert [row["movement"] for row in exported] == shown
    assert {(row["sku"], row["kind"]) for row in exported} == {("APL-1", "ISSUE")}
    assert sorted(row["delta"] for row in exported) == ["-1.000", "-2.000", "-3.000"]
    assert download.suggested_filename.startswith("ledger-")


def test_the_stock_value_of_a_past_day_shows_its_figure(open_page, branch):
    manager = ManagerFactory(branch=branch).user
    product = ProductFactory(cost_price=Decimal("2.50"))
    receive(manager, branch, product, "4", datetime.datetime(2026, 3, 1, 12, tzinfo=UTC))
    receive(manager, branch, product, "6", datetime.datetime(2026, 3, 3, 12, tzinfo=UTC))
    page = open_page(manager, reverse("report-stock-value"))
    expect(page.locator("#report-total")).to_have_text("25.00")

    page.locator("#report-as_of").fill("2026-03-02")

    expect(page.locator("#report-total")).to_have_text("10.00")
    expect(page).to_have_url(f"/reports/stock-value/?branch={branch.code}&as_of=2026-03-02")
    page.reload()
    expect(page.locator("#report-total")).to_have_text("10.00")


def test_a_day_not_ended_is_said_beside_its_field(open_page, branch):
    manager = ManagerFactory(branch=branch).user
    page = open_page(manager, reverse("report-stock-value"))

    page.locator("#report-as_of").fill("2999-01-01")

    expect(page.locator("#error-as_of")).to_contain_text("is still to come")
    expect(page.locator("#report-as_of")).to_have_value("2999-01-01")


@pytest.fixture
def a_year_of_stock(branch):
    """Two branches, three categories, receipts and issues over a few weeks, some stock low
    at the branch and plenty elsewhere."""
    manager = ManagerFactory(branch=branch).user
    warehouse = BranchFactory(code="WH-01", name="Central warehouse")
    ManagerFactory(branch=warehouse, user=manager)
    categories = [CategoryFactory(name=name) for name in ("Hardware", "Garden", "Paint")]
    products = [
        ProductFactory(
            name=f"{kind} {n}",
            category=categories[n % 3],
            cost_price=Decimal(3 + n),
            low_stock_threshold=Decimal("10"),
        )
        for n, kind in enumerate(["Hammer", "Rake", "Brush", "Saw", "Hose", "Roller", "Drill"])
    ]
    today = datetime.datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    for n, product in enumerate(products):
        receive(manager, warehouse, product, "60", today - datetime.timedelta(days=40))
        receive(manager, branch, product, str(12 + n * 3), today - datetime.timedelta(days=30))
        for day in reversed(range(0, 28, 3 + n)):
            issue(manager, branch, product, "1", today - datetime.timedelta(days=day))
    for name in ("Ladder", "Wheelbarrow"):  # held, never issued: slow movers
        idle = ProductFactory(name=name, category=categories[0], cost_price=Decimal("40"))
        receive(manager, warehouse, idle, "5", today - datetime.timedelta(days=90))
    return manager


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("reports-index", "/reports/"),
        ("report-stock-value", "/reports/stock-value/"),
        ("report-movements", "/reports/movements/?granularity=day"),
        ("report-movers", "/reports/movers/"),
        ("report-reorder", "/reports/reorder/"),
    ],
)
def test_each_report_fits_a_wide_window_and_a_phone(
    open_page, a_year_of_stock, screenshots, name, path
):
    page = open_page(a_year_of_stock, path, viewport=WIDE)
    expect(page.locator("h1")).to_be_visible()
    if name != "reports-index":
        expect(page.locator("#report-results svg.chart").first).to_be_visible()
    page.screenshot(path=screenshots / f"{name}-1280.png", full_page=True)
    assert horizontal_overflow(page) == 0

    narrow = open_page(a_year_of_stock, path, viewport=NARROW)
    expect(narrow.locator("h1")).to_be_visible()
    narrow.screenshot(path=screenshots / f"{name}-375.png", full_page=True)
    narrow.screenshot(path=screenshots / f"{name}-375-top.png")
    assert horizontal_overflow(narrow) == 0
