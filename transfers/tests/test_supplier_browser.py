"""Suppliers in a real browser: an ADMIN adds a supplier and the products it sells (a
refused pack size shown beside its field, as typed), and a manager finds it by searching the
list, which narrows as they type. Screenshots of the list and a supplier's page, wide and on
a phone."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.tests.factories import AdminFactory, ManagerFactory
from branches.tests.factories import BranchFactory
from catalog.models import Supplier, SupplierProduct, Unit
from catalog.tests.factories import ProductFactory, SupplierFactory
from inventory_project.tests import conftest as browser_fixtures
from inventory_project.tests.browser import NARROW, WIDE, horizontal_overflow

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

# The browser fixtures are the other browser tests' (their folder's conftest), used here.
browser_server = browser_fixtures.browser_server
open_page = browser_fixtures.open_page
screenshot_folder = browser_fixtures.screenshot_folder
screenshots = browser_fixtures.screenshots


def shoot(page, screenshots, name: str) -> None:
    """The page wide and on a phone, saved; neither scrolls sideways."""
    page.set_viewport_size(WIDE)
    page.screenshot(path=screenshots / f"{name}-1280.png", full_page=True)
    wide = horizontal_overflow(page)
    page.set_viewport_size(NARROW)
    page.screenshot(path=screenshots / f"{name}-375.png", full_page=True)
    narrow = horizontal_overflow(page)
    page.set_viewport_size(WIDE)
    assert (wide, narrow) == (0, 0), name


def test_an_admin_adds_a_supplier_and_its_products_and_a_manager_finds_it(open_page, screenshots):
    admin = AdminFactory()
    manager = ManagerFactory(branch=BranchFactory(code="BER-01")).user
    ProductFactory(sku="OAT-1", name="Oat milk, barista edition, 1 l", unit=Unit.PIECE)
    ProductFactory(sku="FLR-1", name="Rye flour", unit=Unit.KILOGRAM, barcode="4006381333931")
    SupplierFactory(code="BOLT", name="Bolt House Wholesale")

    page = open_page(admin, reverse("suppliers"))
    page.locator("#supplier-new-link").click()
    page.get_by_label("Code").fill("nordic")
    page.get_by_label("Name").fill("Nordic Dairy Cooperative")
    page.get_by_label("Contact").fill("Dana Berg")
    page.get_by_label("E-mail").fill("orders@nordic.example")
    page.get_by_label("Lead time (days)").fill("4")
    shoot(page, screenshots, "supplier-new")
    page.get_by_role("button", name="Add supplier").click()

    expect(page).to_have_url(re.compile(r"/suppliers/[0-9a-f-]{36}/$"))
    expect(page.locator("h1")).to_contain_text("Nordic Dairy Cooperative")
    expect(page.locator("h1")).to_contain_text("NORDIC")

    # A countable product in half packs is refused beside the field, the rest kept as typed.
    form = page.locator("#line-form")
    form.get_by_label("Product", exact=True).fill("OAT-1")
    form.get_by_label("Supplier's SKU").fill("ND-OAT-12")
    form.get_by_label("Pack size").fill("2.5")
    form.get_by_label("Unit price").fill("0.9125")
    form.get_by_role("button", name="Save product").click()
    expect(page.locator("#id_pack_size_error")).to_contain_text("whole number")
    expect(page.locator("#line-form").get_by_label("Supplier's SKU")).to_have_value("ND-OAT-12")

    form = page.locator("#line-form")
    form.get_by_label("Pack size").fill("12")
    form.get_by_label("Minimum order quantity").fill("24")
    form.get_by_label("Preferred supplier of this product").check()
    form.get_by_role("button", name="Save product").click()
    expect(page.locator("#line-OAT-1")).to_contain_text("ND-OAT-12")

    # A product named by its barcode, sold by weight in fractional packs.
    form = page.locator("#line-form")
    form.get_by_label("Product", exact=True).fill("4006381333931")
    form.get_by_label("Pack size").fill("2.5")
    form.get_by_label("Unit price").fill("1.2")
    form.get_by_role("button", name="Save product").click()
    expect(page.locator("#line-FLR-1")).to_contain_text("2.5")

    supplier = Supplier.objects.get(code="NORDIC")
    oats = SupplierProduct.objects.get(supplier=supplier, product__sku="OAT-1")
    assert (oats.pack_size, oats.minimum_order_quantity, oats.is_preferred) == (
        Decimal("12"),
        Decimal("24"),
        True,
    )
    page.keyboard.press("Home")
    shoot(page, screenshots, "supplier")

    # The manager reads it: no forms, and the list narrows as they type.
    listed = open_page(manager, reverse("suppliers"))
    expect(listed.locator("#supplier-results")).to_contain_text("Bolt House Wholesale")
    expect(listed.locator("#supplier-new-link")).to_have_count(0)
    listed.get_by_label("Search").press_sequentially("nordic")
    expect(listed.locator("#supplier-results")).not_to_contain_text("Bolt House Wholesale")
    expect(listed).to_have_url(re.compile(r"q=nordic"))
    shoot(listed, screenshots, "suppliers")
    listed.get_by_role("link", name="Nordic Dairy Cooperative").click()
    expect(listed.locator("#line-OAT-1")).to_contain_text("preferred")
    expect(listed.locator("#line-form")).to_have_count(0)
    shoot(listed, screenshots, "supplier-read-only")
