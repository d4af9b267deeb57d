"""A purchase order from the draft to the last receipt, in real browsers: a shop's manager
drafts an order on the new order page (the supplier's prices and packs appear as the supplier
is chosen) and sends it; the shop's staff receive part of it, then everything outstanding,
and the manager's open order page follows each step without a reload. Screenshots of the new
order page and an order's page, wide and on a phone."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Role
from accounts.tests.factories import ManagerFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.models import Unit
from catalog.tests.factories import ProductFactory, SupplierFactory
from inventory_project.tests import conftest as browser_fixtures
from inventory_project.tests.browser import NARROW, WIDE, horizontal_overflow
from stock.models import StockLevel
from transfers.models import PurchaseOrder, PurchaseOrderStatus, PurchaseReceipt
from transfers.tests.factories import offered

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

CONNECTED = re.compile(r"\bconnected\b")

# The browser fixtures are the other browser tests' (their folder's conftest), used here.
browser_server = browser_fixtures.browser_server
open_page = browser_fixtures.open_page
screenshot_folder = browser_fixtures.screenshot_folder
screenshots = browser_fixtures.screenshots


@pytest.fixture
def shop():
    shop = BranchFactory(code="BER-01", name="Berlin Mitte", city="Berlin")
    supplier = SupplierFactory(
        code="ACME", name="Acme Tools", email="orders@acme.example", lead_time_days=5
    )
    hammer = ProductFactory(sku="HAMMER-1", name="Claw hammer, 16 oz", unit=Unit.PIECE)
    nails = ProductFactory(sku="NAIL-50", name="Wire nails 50 mm, box", unit=Unit.BOX)
    offered(supplier, hammer, pack_size="6", price="4.2500", minimum="12")
    offered(supplier, nails, pack_size="10", price="1.1000")
    return {
        "shop": shop,
        "manager": ManagerFactory(branch=shop).user,
        "staff": MembershipFactory(branch=shop, role=Role.STAFF).user,
        "hammer": hammer,
        "nails": nails,
    }


def live(page) -> None:
    expect(page.locator("#live-status")).to_have_class(CONNECTED)


def status_of(page):
    return page.locator("#order-status")


def shoot(page, folder, name: str) -> None:
    """The page wide and on a phone, saved; neither scrolls sideways."""
    page.set_viewport_size(WIDE)
    page.screenshot(path=folder / f"{name}-1280.png", full_page=True)
    wide = horizontal_overflow(page)
    page.set_viewport_size(NARROW)
    page.screenshot(path=folder / f"{name}-375.png", full_page=True)
    narrow = horizontal_overflow(page)
    page.set_viewport_size(WIDE)
    assert (wide, narrow) == (0, 0), name


def test_an_order_is_drafted_sent_and_received_in_two_parts_live(open_page, shop, screenshots):
    world = shop
    hammer, nails = world["hammer"], world["nails"]

    # The manager drafts the order: choosing the supplier shows its prices and packs.
    form = open_page(world["manager"], reverse("purchase-order-new"))
    expect(form.locator("#order-branch")).to_have_value("BER-01")
    form.locator("#lines-0-product").fill("HAMMER-1")
    form.locator("#lines-0-quantity").fill("13")
    form.locator("#lines-1-product").fill("NAIL-50")
    form.locator("#lines-1-quantity").fill("20")
    form.locator("#order-supplier").select_option("ACME")
    expect(form.locator("#line-0 .line-terms")).to_contain_text("packs of 6; at least 12")
    expect(form.locator("#lines-0-unit_price")).to_have_value("4.25")
    expect(form.locator("#lines-0-quantity")).to_have_value("13")
    # A third line's product is found by typing part of its name: ACME's, with its pack.
    form.locator("#lines-2-product").press_sequentially("wire")
    expect(form.locator("#lines-2-product-options option")).to_have_count(1)
    expect(form.locator("#lines-2-product-options option")).to_have_attribute("value", "NAIL-50")
    form.locator("#lines-2-product").fill("")
    form.locator("#order-save").click()
    # Not whole packs: said beside the line, what was typed kept.
    expect(form.locator("#lines-0-quantity-error")).to_contain_text("6")
    expect(form.locator("#lines-1-product")).to_have_value("NAIL-50")
    form.locator("#lines-0-quantity").fill("24")
    shoot(form, screenshots, "purchase-order-new")
    form.locator("#order-save").click()

    expect(form).to_have_url(re.compile(r"/purchase-orders/[0-9a-f-]{36}/$"))
    order = PurchaseOrder.objects.get()
    manager_page = form
    expect(status_of(manager_page)).to_have_text(str(PurchaseOrderStatus.DRAFT.label))
    live(manager_page)
    manager_page.locator("#step-send button").click()
    expect(status_of(manager_page)).to_have_text(str(PurchaseOrderStatus.SENT.label))
    expect(manager_page.locator("#order-mail")).to_contain_text(re.compile("sent", re.I))

    # The manager's list of orders, open in another tab, follows too.
    listing = open_page(world["manager"], reverse("purchase-orders"))
    live(listing)
    row = listing.locator(f"#order-{order.pk}")
    expect(row).to_contain_text(str(PurchaseOrderStatus.SENT.label))

    # The staff at the door receive part of it: 12 hammers, no nails yet.
    staff_page = open_page(world["staff"], reverse("purchase-order", args=[order.pk]))
    live(staff_page)
    hammers = staff_page.locator(f"#id_receive-{hammer.pk}-quantity")
    expect(hammers).to_have_value("24")
    expect(staff_page.locator(f"#id_receive-{hammer.pk}-unit_cost")).to_have_value("4.25")
    hammers.fill("12")
    staff_page.locator(f"#id_receive-{nails.pk}-quantity").fill("0")
    staff_page.locator(f"#id_receive-{hammer.pk}-unit_cost").fill("4.1")
    shoot(staff_page, screenshots, "purchase-order-receive")
    staff_page.locator("#receive-submit").click()
    expect(status_of(staff_page)).to_have_text(str(PurchaseOrderStatus.PARTIALLY_RECEIVED.label))
    expect(staff_page.locator(f"#id_receive-{hammer.pk}-quantity")).to_have_value("12")

    # The manager's page, open all along, follows.
    expect(status_of(manager_page)).to_have_text(str(PurchaseOrderStatus.PARTIALLY_RECEIVED.label))
    expect(manager_page.locator("#order-receipts")).to_contain_text("HAMMER-1")

    # The rest arrives: one click receives everything outstanding.
    staff_page.locator("#receive-everything").click()
    expect(status_of(staff_page)).to_have_text(str(PurchaseOrderStatus.RECEIVED.label))
    expect(staff_page.locator("#step-receive")).to_have_count(0)
    expect(status_of(manager_page)).to_have_text(str(PurchaseOrderStatus.RECEIVED.label))
    expect(manager_page.locator("#order-history li")).to_have_count(4)
    shoot(manager_page, screenshots, "purchase-order-detail")
    expect(row).to_contain_text(str(PurchaseOrderStatus.RECEIVED.label))
    expect(row).to_contain_text("124.00 EUR")
    shoot(listing, screenshots, "purchase-order-list")

    held = {
        level.product.sku: level.on_hand
        for level in StockLevel.objects.filter(branch=world["shop"]).select_related("product")
    }
    assert held == {"HAMMER-1": Decimal(24), "NAIL-50": Decimal(20)}
    assert PurchaseReceipt.objects.count() == 3
