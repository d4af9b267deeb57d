"""The item page's costs and reorder rule in a real browser: a manager receives goods at a
unit cost through the dialog and sees the average unit cost and value follow, then sets the
reorder rule with the keyboard. Screenshots wide and on a phone, with nothing scrolling
sideways."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.tests.factories import ManagerFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory, SupplierFactory, SupplierProductFactory
from inventory_project.tests import conftest as browser_fixtures
from inventory_project.tests.browser import NARROW, WIDE, horizontal_overflow
from stock import services
from stock.models import ReorderRule, StockLevel

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

browser_server = browser_fixtures.browser_server
open_page = browser_fixtures.open_page
screenshot_folder = browser_fixtures.screenshot_folder
screenshots = browser_fixtures.screenshots


def test_a_manager_receives_at_a_cost_and_sets_the_reorder_rule(open_page, screenshots):
    shop = BranchFactory(code="BER-01", name="Berlin Mitte")
    hammer = ProductFactory(sku="HAMMER-1", name="Claw hammer, 16 oz", cost_price=Decimal("4"))
    acme = SupplierFactory(code="ACME", name="Acme Tools")
    SupplierProductFactory(supplier=acme, product=hammer, is_preferred=True)
    manager = ManagerFactory(branch=shop).user
    services.receive_stock(
        actor=manager, branch_id=shop.pk, product_id=hammer.pk, quantity="10", unit_cost="4"
    )
    level = StockLevel.objects.get(branch=shop, product=hammer)
    page = open_page(manager, reverse("stock-level", args=[level.pk]), viewport=WIDE)
    expect(page.locator("#level-average-cost")).to_have_text("4.0000")

    page.get_by_role("link", name="Receive", exact=True).click()
    dialog = page.locator("#move-receive")
    dialog.get_by_label("Quantity received").fill("30")
    dialog.get_by_label("Unit cost (optional)").fill("5.5")
    dialog.get_by_role("button", name="Record receipt").click()

    expect(page.locator("#level-average-cost")).to_have_text("5.1250")
    expect(page.locator("#level-value")).to_contain_text("205.00")

    page.get_by_label("Supplier").select_option(label="ACME · Acme Tools")
    page.get_by_label("Minimum", exact=True).fill("8")
    page.get_by_label("Maximum (order up to)").fill("40")
    page.get_by_label("Maximum (order up to)").press("Enter")

    expect(page.locator("#reorder-terms")).to_contain_text("Below 8")
    expect(page.locator("#reorder-terms")).to_contain_text("This branch's own rule.")
    rule = ReorderRule.objects.get()
    assert (rule.minimum, rule.maximum, rule.supplier_id) == (8, 40, acme.pk)

    page.screenshot(path=screenshots / "item-costs-and-rule-1280.png", full_page=True)
    wide = horizontal_overflow(page)
    page.set_viewport_size(NARROW)
    page.screenshot(path=screenshots / "item-costs-and-rule-375.png", full_page=True)
    assert (wide, horizontal_overflow(page)) == (0, 0)


def test_a_refused_rule_keeps_what_was_typed(open_page):
    shop = BranchFactory()
    product = ProductFactory()
    manager = ManagerFactory(branch=shop).user
    services.receive_stock(actor=manager, branch_id=shop.pk, product_id=product.pk, quantity="2")
    level = StockLevel.objects.get(branch=shop, product=product)
    page = open_page(manager, reverse("stock-level", args=[level.pk]))

    page.get_by_label("Minimum", exact=True).fill("9")
    page.get_by_label("Maximum (order up to)").fill("3")
    page.get_by_role("button", name="Save rule").click()

    expect(page.locator("#reorder-rule-form")).to_contain_text("cannot be below the minimum")
    expect(page.get_by_label("Minimum", exact=True)).to_have_value("9")
    expect(page.get_by_label("Maximum (order up to)")).to_have_value("3")
    assert re.search("aria-invalid", page.content())
    assert not ReorderRule.objects.exists()
