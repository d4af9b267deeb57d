"""The import pages in a real browser (fixtures in conftest.py): a manager uploads a stock
count with errors, reads them by row and column, uploads the corrected file, applies it, and
the stock list shows the counted figures; every import page fits a wide window and a phone's
(screenshots saved where the other browser tests save theirs)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from accounts.tests.factories import AdminFactory, ManagerFactory
from catalog.models import Product, Unit
from catalog.tests.factories import ProductFactory
from inventory_project.tests.browser import NARROW, WIDE, horizontal_overflow
from stock.models import StockImport

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

WITH_ERRORS = b"sku;quantity;note\nCOLA-1;12;back shelf\nAPL-1;-3;\nNOPE-9;4;\nCOLA-1;2,5;\n"
CORRECTED = b"sku;quantity;note\nCOLA-1;12;back shelf\nAPL-1;3,25;\n"


def choose_file(page, kind: str, name: str, content: bytes) -> None:
    page.locator(f"#{kind}-file").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
    )


def shoot(page, screenshots, name: str) -> None:
    page.screenshot(path=screenshots / f"{name}-{page.viewport_size['width']}.png", full_page=True)
    assert horizontal_overflow(page) == 0


def test_a_count_with_errors_shows_them_and_once_corrected_applies(open_page, branch, screenshots):
    manager = ManagerFactory(branch=branch).user
    ProductFactory(sku="COLA-1", name="Cola", unit=Unit.PIECE)
    ProductFactory(sku="APL-1", name="Apples", unit=Unit.KILOGRAM)
    page = open_page(manager, reverse("imports") + f"?branch={branch.code}")
    expect(page.locator("#stock_count-branch")).to_have_value(branch.code)
    expect(page.locator("#upload-products")).to_have_count(0)
    shoot(page, screenshots, "import-choose")

    choose_file(page, "stock_count", "count.csv", WITH_ERRORS)
    page.locator("#upload-stock_count-submit").click()
    errors = page.locator("#import-errors tbody tr")
    expect(errors).to_have_count(4)
    found = [
        [cell.strip() for cell in row]
        for row in errors.evaluate_all(
            "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText))"
        )
    ]
    assert [(row[0], row[1]) for row in found] == [
        ("3", "quantity"),
        ("4", "sku"),
        ("5", "sku"),
        ("5", "quantity"),
    ]
    assert found[1][2] == "No product has the SKU NOPE-9."
    expect(page.locator("#import-apply-form")).to_have_count(0)
    expect(page.locator("#count-errors")).to_have_text("3")
    shoot(page, screenshots, "import-preview-errors")
    narrow = open_page(manager, page.url, viewport=NARROW)
    expect(narrow.locator("#import-errors")).to_be_visible()
    shoot(narrow, screenshots, "import-preview-errors")

    page.locator("#import-upload-again").click()
    expect(page.locator("#stock_count-branch")).to_have_value(branch.code)
    choose_file(page, "stock_count", "count.csv", CORRECTED)
    page.locator("#upload-stock_count-submit").click()
    expect(page.locator("#import-apply-form")).to_be_visible()
    expect(page.locator("#import-errors")).to_have_count(0)
    expect(page.locator("#count-new")).to_have_text("2")
    shoot(page, screenshots, "import-preview-ready")
    narrow = open_page(manager, page.url, viewport=NARROW)
    expect(narrow.locator("#import-apply-form")).to_be_visible()
    shoot(narrow, screenshots, "import-preview-ready")

    page.locator("#import-apply-submit").click()
    expect(page.locator("#import-applied")).to_contain_text("2 movements recorded.")
    shoot(page, screenshots, "import-applied")
    narrow = open_page(manager, page.url, viewport=NARROW)
    expect(narrow.locator("#import-applied")).to_be_visible()
    shoot(narrow, screenshots, "import-applied")

    page.locator("#import-done-link").click()
    expect(page).to_have_url(re.compile(r"/stock/\?branch="))
    table = page.locator("#stock-results, main")
    expect(table.locator("tr", has_text="COLA-1")).to_contain_text("12")
    expect(table.locator("tr", has_text="APL-1")).to_contain_text("3.25")
    assert StockImport.objects.filter(status="APPLIED").count() == 1


def test_the_import_page_of_an_administrator_fits_a_wide_window_and_a_phone(open_page, screenshots):
    admin = AdminFactory()
    for viewport in (WIDE, NARROW):
        page = open_page(admin, reverse("imports"), viewport=viewport)
        expect(page.locator("#upload-products")).to_be_visible()
        page.locator("#import-products details summary").click()
        expect(page.locator("#import-products table")).to_be_visible()
        shoot(page, screenshots, "import-choose-admin")


def test_an_administrator_imports_the_example_products_file_with_its_categories(
    open_page, screenshots
):
    admin = AdminFactory()
    example = Path(settings.BASE_DIR) / "static" / "examples" / "products.csv"
    page = open_page(admin, reverse("imports"))
    page.locator("#products-create_categories").check()
    choose_file(page, "products", "products.csv", example.read_bytes())
    page.locator("#upload-products-submit").click()
    expect(page.locator("#count-new")).to_have_text("7")
    expect(page.locator("#import-summary")).to_contain_text("Bakery")
    shoot(page, screenshots, "import-preview-products")
    page.locator("#import-apply-submit").click()
    expect(page.locator("#import-applied")).to_contain_text("7 products added")
    assert Product.objects.filter(sku__startswith="BAK-", category__name="Bakery").count() == 3
