"""The import pages in a real browser (fixtures in conftest.py): a manager uploads a stock
count with errors, reads them by row and column, uploads the corrected file, applies it, and
the stock list shows the counted figures; every import page fits a wide window and a phone's
(screenshots saved where the other browser tests save theirs).

Applying is a Celery worker's: this module's server has a worker of its own, on a broker
(a private Redis) of its own, so that no other test's worker takes its messages and its
broker can be stopped. The page of a file being applied asks every 2 s how it went.
"""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import AdminFactory, ManagerFactory
from catalog.models import Product, Unit
from catalog.tests.factories import ProductFactory
from inventory_project.tests.browser import (
    NARROW,
    WIDE,
    CeleryWorker,
    LiveServer,
    horizontal_overflow,
)
from inventory_project.tests.helpers import database_url
from inventory_project.tests.redis_server import PrivateRedis
from stock import services, tasks
from stock.models import ImportStatus, StockImport, StockMovement

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    redis = PrivateRedis(tmp_path_factory.mktemp("import-broker"))
    yield redis
    redis.stop()


@pytest.fixture(scope="module")
def browser_server(django_db_setup, broker, tmp_path_factory, worker_id):
    """This module's server (the pages' ``open_page`` opens) and its worker, on ``broker``."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run through `make test` or set DATABASE_URL")
    logs = tmp_path_factory.mktemp("import-server")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CELERY_BROKER_URL", broker.url)
        server = LiveServer(
            logs / "server.log", channel_prefix=f"imports-{worker_id}-{os.getpid()}"
        )
    worker = None
    try:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
        env.update(
            DJANGO_SETTINGS_MODULE="inventory_project.settings",
            DATABASE_URL=database_url(),
            REDIS_URL=settings.REDIS_URL,
            CELERY_BROKER_URL=broker.url,
            PYTHONUNBUFFERED="1",
        )
        worker = CeleryWorker(env, logs / "worker.log", "imports")
        yield server
    finally:
        if worker is not None:
            worker.stop()
        server.stop()


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


def test_the_page_of_a_file_being_applied_shows_the_outcome_when_the_worker_is_done(
    open_page, branch, screenshots
):
    manager = ManagerFactory(branch=branch).user
    ProductFactory(sku="COLA-1", name="Cola", unit=Unit.PIECE)
    stock_import = services.preview_import(
        actor=manager,
        kind="STOCK_COUNT",
        file_name="count.csv",
        data=b"sku,quantity\nCOLA-1,9\n",
        branch_id=branch.pk,
    )
    # Asked for, and not taken by a worker yet (a long queue, a long file before it).
    StockImport.objects.filter(pk=stock_import.pk).update(
        status=ImportStatus.APPLYING, apply_requested_by=manager, apply_requested_at=timezone.now()
    )
    page = open_page(manager, reverse("import", args=[stock_import.pk]))
    expect(page.locator("#import-applying")).to_contain_text("Applying 1 row…")
    expect(page.locator("#import-apply-form")).to_have_count(0)
    shoot(page, screenshots, "import-applying")
    narrow = open_page(manager, page.url, viewport=NARROW)
    expect(narrow.locator("#import-refresh")).to_be_visible()
    shoot(narrow, screenshots, "import-applying")

    assert tasks.apply_import(str(stock_import.pk), str(manager.pk)) == "applied"
    # The page asks again by itself, and no longer once it shows the outcome.
    expect(page.locator("#import-applied")).to_contain_text("1 movement recorded.")
    expect(page.locator("#import-applying")).to_have_count(0)
    page.locator("#import-audit-link").click()
    expect(page).to_have_url(re.compile(r"/audit/\?branch=.*kind=COUNT"))
    expect(page.locator("main")).to_contain_text("COLA-1")


def test_apply_while_the_queue_is_down_says_so_and_applies_once_it_is_back(
    open_page, branch, broker, screenshots
):
    manager = ManagerFactory(branch=branch).user
    cola = ProductFactory(sku="COLA-1", name="Cola", unit=Unit.PIECE)
    stock_import = services.preview_import(
        actor=manager,
        kind="OPENING_STOCK",
        file_name="opening.csv",
        data=b"sku,quantity\nCOLA-1,5\n",
        branch_id=branch.pk,
    )
    page = open_page(manager, reverse("import", args=[stock_import.pk]))
    broker.stop()
    try:
        page.locator("#import-apply-submit").click()
        expect(page.locator("#import-apply-error")).to_contain_text(
            "could not be handed to the worker", timeout=20_000
        )
    finally:
        broker.start()
    shoot(page, screenshots, "import-queue-down")
    assert not StockMovement.objects.filter(product=cola).exists()

    page.locator("#import-apply-submit").click()
    expect(page.locator("#import-applied")).to_contain_text("1 movement recorded.", timeout=30_000)
    assert StockMovement.objects.filter(product=cola).count() == 1
