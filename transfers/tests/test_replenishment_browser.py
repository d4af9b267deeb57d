"""Replenishment in real browsers, from the suggestion to the received order: a shop's
manager opens the replenishment page, sees a transfer from the warehouse and a purchase
suggested, unticks nothing and creates the drafts; from the result page they open the
order and send it, and the shop's staff receive it. Screenshots of the page and of the
result, wide and on a phone."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import sign_in_device
from accounts.tests.factories import AdminFactory, ManagerFactory, MembershipFactory
from branches.models import BranchKind
from branches.tests.factories import BranchFactory
from catalog.models import Unit
from catalog.tests.factories import ProductFactory, SupplierFactory
from inventory_project.tests.browser import NARROW, WIDE, horizontal_overflow

# The browser fixtures live beside the other browser tests; this test uses them from here.
from inventory_project.tests.conftest import (  # noqa: F401
    browser_server,
    open_page,
    screenshot_folder,
    screenshots,
)
from stock.models import StockLevel
from transfers.models import PurchaseOrder, PurchaseOrderStatus, Transfer, TransferStatus
from transfers.tests.factories import offered, stocked

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def world():
    shop = BranchFactory(code="BER-01", name="Berlin Mitte", city="Berlin")
    warehouse = BranchFactory(code="WH-01", name="Central warehouse", kind=BranchKind.WAREHOUSE)
    supplier = SupplierFactory(
        code="ACME", name="Acme Tools", email="orders@acme.example", lead_time_days=5
    )
    hammer = ProductFactory(
        sku="HAMMER-1", name="Claw hammer, 16 oz", unit=Unit.PIECE, low_stock_threshold=10
    )
    nails = ProductFactory(
        sku="NAIL-50", name="Wire nails 50 mm, box", unit=Unit.BOX, low_stock_threshold=8
    )
    offered(supplier, hammer, pack_size="6", price="4.2500", minimum="12", preferred=True)
    offered(supplier, nails, pack_size="10", price="1.1000", preferred=True)
    stocked(shop, hammer, 3)  # needs 17: the warehouse spares 5, 12 are bought
    stocked(warehouse, hammer, 25)
    StockLevel.objects.create(branch=shop, product=nails, on_hand=0)  # needs 16: two packs
    return {
        "shop": shop,
        "warehouse": warehouse,
        "manager": ManagerFactory(branch=shop).user,
        "staff": MembershipFactory(branch=shop, role=Role.STAFF).user,
        "hammer": hammer,
        "nails": nails,
    }


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


def test_suggestions_become_drafts_then_a_received_order(open_page, world, screenshots):  # noqa: F811
    page = open_page(world["manager"], reverse("replenishment"))
    hammer_row = page.locator("tr", has_text="HAMMER-1")
    expect(hammer_row).to_contain_text("5 from WH-01")
    expect(hammer_row).to_contain_text("12 at 4.2500 EUR")
    expect(page.locator("tr", has_text="NAIL-50")).to_contain_text("20 at 1.1000 EUR")
    expect(page.locator("input[name=choices]:checked")).to_have_count(3)
    # Keyboard: the boxes are reachable and labelled by their product.
    expect(page.get_by_role("checkbox", name=re.compile("5 from WH-01"))).to_be_checked()
    shoot(page, screenshots, "replenishment")

    page.locator("#replenishment-apply").click()

    expect(page).to_have_url(re.compile(r"/replenishment/done/\?"))
    transfer = Transfer.objects.get()
    order = PurchaseOrder.objects.get()
    assert (transfer.from_branch, transfer.status) == (world["warehouse"], TransferStatus.REQUESTED)
    assert {line.product.sku: line.quantity_ordered for line in order.lines.all()} == {
        "HAMMER-1": Decimal(12),
        "NAIL-50": Decimal(20),
    }
    expect(page.locator("#done-transfers")).to_contain_text(transfer.reference)
    expect(page.locator("#done-orders")).to_contain_text(order.reference)
    shoot(page, screenshots, "replenishment-done")

    # Nothing is suggested twice: the drafts are counted as coming.
    again = open_page(world["manager"], reverse("replenishment"))
    expect(again.locator("#replenishment-plan")).to_contain_text("Nothing needs replenishing")

    # The order, opened from the result page, is sent; the staff receive all of it.
    page.get_by_role("link", name=order.reference).click()
    expect(page).to_have_url(re.compile(rf"/purchase-orders/{order.pk}/$"))
    page.locator("#step-send button").click()
    expect(page.locator("#order-status")).to_have_text(str(PurchaseOrderStatus.SENT.label))
    staff_page = open_page(world["staff"], reverse("purchase-order", args=[order.pk]))
    staff_page.locator("#receive-everything").click()
    expect(staff_page.locator("#order-status")).to_have_text(
        str(PurchaseOrderStatus.RECEIVED.label)
    )
    held = StockLevel.objects.get(branch=world["shop"], product=world["hammer"]).on_hand
    assert held == 3 + 12


def test_choosing_a_branch_swaps_the_plan_and_keeps_it_in_the_address(open_page, world):  # noqa: F811
    page = open_page(AdminFactory(), reverse("replenishment"))
    expect(page.locator("#replenishment-title")).to_have_text("Replenishment of all your branches")

    page.locator("#replenishment-branch").select_option("WH-01")

    expect(page).to_have_url(re.compile(r"\?branch=WH-01$"))
    expect(page.locator("#replenishment-title")).to_have_text("Replenishment of WH-01")
    expect(page.locator("#replenishment-plan")).to_contain_text("Nothing needs replenishing")
    page.locator("#replenishment-branch").select_option("BER-01")
    expect(page.locator("#replenishment-plan")).to_contain_text("HAMMER-1")


def test_the_plan_follows_stock_live_and_keeps_what_was_unticked(open_page, world):  # noqa: F811
    page = open_page(world["manager"], reverse("replenishment"))
    expect(page.locator("#live-status")).to_have_class(re.compile(r"\bconnected\b"))
    hammer_purchase = page.locator("tr", has_text="HAMMER-1").locator("input[value^='order:']")
    hammer_purchase.uncheck()

    # Seven boxes of nails arrive, through the server as a scanner sends them (what this
    # test commits itself is not announced).
    _, token = sign_in_device(user=world["manager"], device="Scanner at the door")
    answer = page.request.post(
        reverse("api-stock-receive"),
        data={"branch": str(world["shop"].pk), "product": str(world["nails"].pk), "quantity": "7"},
        headers={"Authorization": f"Token {token}"},
    )
    assert answer.status == 201, answer.text()

    # 16 - 7 = 9 to buy: one pack of ten now, the rest of the plan as it was left.
    expect(page.locator("tr", has_text="NAIL-50")).to_contain_text("10 at 1.1000 EUR")
    expect(hammer_purchase).not_to_be_checked()
    expect(page.locator("tr", has_text="NAIL-50").locator("input")).to_be_checked()
