"""A transfer from the request to closing it short, in real browsers: a shop's manager asks
the warehouse for goods on the create page, the warehouse's manager sees it arrive on the
open transfer list, approves and ships it; the shop's staff receive part of it line by line
and the shop's manager closes it short, each side's open page following without a reload.
Screenshots of the create page, a transfer's page and its note, wide and on a phone."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Role
from accounts.tests.factories import ManagerFactory, MembershipFactory
from branches.models import BranchKind
from branches.tests.factories import BranchFactory
from catalog.models import Unit
from catalog.tests.factories import ProductFactory
from inventory_project.tests.browser import NARROW, WIDE, horizontal_overflow
from stock import services as stock
from stock.models import StockLevel
from transfers.models import ShortfallReason, Transfer, TransferStatus

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

CONNECTED = re.compile(r"\bconnected\b")


@pytest.fixture
def shop_and_warehouse():
    shop = BranchFactory(code="BER-01", name="Berlin Mitte", city="Berlin")
    warehouse = BranchFactory(
        code="WH-01",
        name="Central warehouse",
        kind=BranchKind.WAREHOUSE,
        city="Hamburg",
        address="Kaiweg 4\n20457 Hamburg",
    )
    warehouse_manager = ManagerFactory(branch=warehouse).user
    oats = ProductFactory(sku="OAT-1", name="Oat milk, barista edition, 1 l", unit=Unit.PIECE)
    rye = ProductFactory(sku="RYE-1", name="Rye bread", unit=Unit.PIECE)
    for product, quantity in ((oats, "40"), (rye, "20")):
        stock.receive_stock(
            actor=warehouse_manager,
            branch_id=warehouse.pk,
            product_id=product.pk,
            quantity=Decimal(quantity),
        )
    return {
        "shop": shop,
        "warehouse": warehouse,
        "shop_manager": ManagerFactory(branch=shop).user,
        "shop_staff": MembershipFactory(branch=shop, role=Role.STAFF).user,
        "warehouse_manager": warehouse_manager,
        "oats": oats,
        "rye": rye,
    }


def live(page) -> None:
    expect(page.locator("#live-status")).to_have_class(CONNECTED)


def status_of(page):
    return page.locator("#transfer-status")


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


def test_a_request_travels_from_the_shop_to_the_warehouse_and_back_live(
    open_page, shop_and_warehouse, screenshots
):
    world = shop_and_warehouse
    warehouse_list = open_page(world["warehouse_manager"], reverse("transfers"))
    live(warehouse_list)
    expect(warehouse_list.locator("#transfer-results")).to_contain_text("No transfer matches.")

    # The shop's manager asks the warehouse, finding the product by typing part of its name.
    create = open_page(world["shop_manager"], reverse("transfer-new"))
    expect(create.locator("#transfer-kind-request")).to_be_checked()
    expect(create.locator("#transfer-to")).to_have_value("BER-01")
    create.locator("#transfer-from").select_option("WH-01")
    create.locator("#lines-0-product").press_sequentially("barista")
    expect(create.locator("#lines-0-product-options option")).to_have_count(1)
    expect(create.locator("#lines-0-product-options option")).to_have_attribute("value", "OAT-1")
    create.locator("#lines-0-product").fill("OAT-1")
    create.locator("#lines-0-quantity").fill("10")
    create.locator("#lines-1-product").fill("RYE-1")
    create.locator("#lines-1-quantity").fill("5")
    # The shop's manager may not see the warehouse's stock: none is shown.
    expect(create.locator("#lines-0-stock")).to_contain_text("not shown")
    create.locator("#transfer-add-line").click()
    expect(create.locator("#lines-3-product")).to_be_focused()
    expect(create.locator("#lines-0-product")).to_have_value("OAT-1")
    shoot(create, screenshots, "transfer-new")
    create.locator("#transfer-create").click()

    expect(create).to_have_url(re.compile(r"/transfers/[0-9a-f-]{36}/$"))
    transfer = Transfer.objects.get()
    expect(status_of(create)).to_have_text(str(TransferStatus.REQUESTED.label))
    shop_manager_page = create

    # The warehouse's open list shows it without a reload; its manager approves and ships.
    row = warehouse_list.locator(f"#transfer-{transfer.pk}")
    expect(row).to_contain_text(transfer.reference)
    expect(row).to_contain_text(str(TransferStatus.REQUESTED.label))
    staff_page = open_page(world["shop_staff"], reverse("transfer", args=[transfer.pk]))
    live(staff_page)
    expect(staff_page.locator("#step-receive")).to_have_count(0)

    row.get_by_role("link", name=transfer.reference).click()
    warehouse_page = warehouse_list
    live(warehouse_page)
    warehouse_page.locator("#step-approve button").click()
    expect(status_of(warehouse_page)).to_have_text(str(TransferStatus.APPROVED.label))
    expect(status_of(shop_manager_page)).to_have_text(str(TransferStatus.APPROVED.label))
    warehouse_page.locator("#step-ship button").click()
    expect(status_of(warehouse_page)).to_have_text(str(TransferStatus.IN_TRANSIT.label))

    # The shop's staff, whose page was open all along, receive part of it line by line.
    expect(status_of(staff_page)).to_have_text(str(TransferStatus.IN_TRANSIT.label))
    oats_field = staff_page.locator(f"#id_receive-{world['oats'].pk}")
    rye_field = staff_page.locator(f"#id_receive-{world['rye'].pk}")
    expect(oats_field).to_have_value("10")
    oats_field.fill("6")
    rye_field.fill("0")
    shoot(staff_page, screenshots, "transfer-receive")
    staff_page.locator("#receive-submit").click()
    expect(status_of(staff_page)).to_have_text(str(TransferStatus.PARTIALLY_RECEIVED.label))
    expect(staff_page.locator(f"#id_receive-{world['oats'].pk}")).to_have_value("4")

    # The shop's manager, also on the page all along, closes it short with a reason.
    expect(status_of(shop_manager_page)).to_have_text(str(TransferStatus.PARTIALLY_RECEIVED.label))
    expect(status_of(warehouse_page)).to_have_text(str(TransferStatus.PARTIALLY_RECEIVED.label))
    shop_manager_page.locator("#id_close-reason").select_option(ShortfallReason.LOST)
    shop_manager_page.locator("#id_close-note").fill("Pallet never arrived")
    shop_manager_page.locator("#close-submit").click()
    expect(status_of(shop_manager_page)).to_have_text(str(TransferStatus.RECEIVED.label))
    expect(status_of(staff_page)).to_have_text(str(TransferStatus.RECEIVED.label))
    expect(status_of(warehouse_page)).to_have_text(str(TransferStatus.RECEIVED.label))
    expect(warehouse_page.locator("#transfer-detail")).to_contain_text("Pallet never arrived")
    shoot(shop_manager_page, screenshots, "transfer-detail")

    transfer.refresh_from_db()
    assert (transfer.status, transfer.shortfall_reason) == (
        TransferStatus.RECEIVED,
        ShortfallReason.LOST,
    )
    received = {
        level.product.sku: level.on_hand
        for level in StockLevel.objects.filter(branch=world["shop"]).select_related("product")
    }
    assert received == {"OAT-1": Decimal(6)}

    # The note for the truck.
    shop_manager_page.locator("#transfer-note-link").click()
    expect(shop_manager_page.locator("#note-reference")).to_have_text(transfer.reference)
    expect(shop_manager_page.locator("svg.note-qr")).to_be_visible()
    shoot(shop_manager_page, screenshots, "transfer-note")
    shop_manager_page.emulate_media(media="print")
    expect(shop_manager_page.locator("header.topbar")).to_be_hidden()
    expect(shop_manager_page.locator("#note-print")).to_be_hidden()
    shop_manager_page.screenshot(path=screenshots / "transfer-note-print.png", full_page=True)


def test_a_send_over_what_the_warehouse_holds_is_warned_about_live_and_confirmed(
    open_page, shop_and_warehouse
):
    world = shop_and_warehouse
    page = open_page(world["warehouse_manager"], reverse("transfer-new"))
    expect(page.locator("#transfer-to")).to_have_value("WH-01")
    page.locator("#transfer-kind-send").check()
    # Sending, the warehouse is at the sending end.
    expect(page.locator("#transfer-from")).to_have_value("WH-01")
    expect(page.locator("#transfer-kind-send")).to_be_checked()
    page.locator("#transfer-to").select_option("BER-01")
    page.locator("#lines-0-product").fill("OAT-1")
    page.locator("#lines-0-quantity").fill("55")
    page.locator("#lines-0-quantity").press("Tab")

    expect(page.locator("#lines-0-stock")).to_contain_text("40 pcs")
    expect(page.locator("#lines-0-stock")).to_contain_text("WH-01 holds only 40 pieces.")
    page.locator("#transfer-create").click()
    expect(page.locator("#transfer-confirm")).to_be_visible()
    assert not Transfer.objects.exists()
    page.locator("#transfer-confirm-send").click()

    expect(status_of(page)).to_have_text(str(TransferStatus.APPROVED.label))
    page.locator("#step-ship button").click()
    expect(page.locator("#step-ship")).to_contain_text("WH-01 holds 40")
    assert Transfer.objects.get().status == TransferStatus.APPROVED
