"""The reorder report in a real browser with a reorder rule at one level and the defaults at
another: the minimum and maximum shown, the rule marked, the way to Replenishment offered to
a manager. Screenshots wide and on a phone, with nothing scrolling sideways."""

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.tests.factories import ManagerFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests import conftest as browser_fixtures
from inventory_project.tests.browser import NARROW, WIDE, horizontal_overflow
from stock import services
from stock.models import StockLevel

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

browser_server = browser_fixtures.browser_server
open_page = browser_fixtures.open_page
screenshot_folder = browser_fixtures.screenshot_folder
screenshots = browser_fixtures.screenshots


def test_the_reorder_report_shows_each_levels_minimum_and_maximum(open_page, screenshots):
    shop = BranchFactory(code="BER-01", name="Berlin Mitte")
    warehouse = BranchFactory(code="WH-01", name="Central warehouse")
    manager = ManagerFactory(branch=shop).user
    ManagerFactory(branch=warehouse, user=manager)
    hammer = ProductFactory(sku="HAMMER-1", name="Claw hammer", low_stock_threshold=Decimal(10))
    rake = ProductFactory(sku="RAKE-1", name="Garden rake", low_stock_threshold=Decimal(10))
    for product, here, there in ((hammer, "12", "60"), (rake, "3", "25")):
        for branch, quantity in ((shop, here), (warehouse, there)):
            services.receive_stock(
                actor=manager, branch_id=branch.pk, product_id=product.pk, quantity=quantity
            )
    services.set_reorder_rule(
        actor=manager, branch_id=shop.pk, product_id=hammer.pk, minimum="15", maximum="40"
    )
    ruled = StockLevel.objects.get(branch=shop, product=hammer)
    path = reverse("report-reorder") + "?branch=BER-01"

    page = open_page(manager, path, viewport=WIDE)
    row = page.locator(f"#reorder-{ruled.pk}")
    expect(row.locator(".reorder-minimum")).to_have_text("15 (rule)")
    expect(row.locator(".reorder-maximum")).to_have_text("40")
    expect(row).to_contain_text("WH-01: 40 spare")
    expect(page.locator("#reorder-replenishment a")).to_have_attribute(
        "href", reverse("replenishment") + "?branch=BER-01"
    )
    page.screenshot(path=screenshots / "reorder-rules-1280.png", full_page=True)
    assert horizontal_overflow(page) == 0

    narrow = open_page(manager, path, viewport=NARROW)
    expect(narrow.locator(f"#reorder-{ruled.pk} .reorder-minimum")).to_be_visible()
    narrow.screenshot(path=screenshots / "reorder-rules-375.png", full_page=True)
    assert horizontal_overflow(narrow) == 0
