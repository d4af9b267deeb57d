"""The pages in a real browser: Debian's Chromium, driven by Playwright, against the app served
by daphne on loopback with the test database and Redis (fixtures in conftest.py). Each person
has a browser context of their own; what the pages write is checked in the database."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import sign_in_device
from accounts.tests.factories import ManagerFactory, MembershipFactory
from catalog.tests.factories import CategoryFactory, ProductFactory
from inventory_project.tests.browser import NARROW, WIDE, horizontal_overflow
from stock import services
from stock.models import MovementKind, StockLevel, StockMovement

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


# What a German reader sees (inventory_project/locale/de/LC_MESSAGES/django.po).
GERMAN = {
    "Stock": "Bestand",
    "This is less than the lowest quantity asked for.": (
        "Das ist weniger als die angegebene Mindestmenge."
    ),
}


def staff_of(branch):
    return MembershipFactory(branch=branch, role=Role.STAFF).user


def manager_of(branch):
    return ManagerFactory(branch=branch).user


def receive(branch, product, quantity, actor) -> StockLevel:
    services.receive_stock(
        actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=Decimal(quantity)
    )
    return StockLevel.objects.get(branch=branch, product=product)


def scan_and_receive(page, code: str, quantity: str) -> None:
    """At the scan page: the scanner types the code and Enter, then the quantity and Enter."""
    page.locator("#scan-code").fill(code)
    page.locator("#scan-code").press("Enter")
    quantity_field = page.locator("#scan-quantity")
    expect(quantity_field).to_be_focused()
    quantity_field.fill(quantity)
    quantity_field.press("Enter")


def level_row(page, level):
    return page.locator(f"#level-{level.pk}")


def row_names(page) -> list[str]:
    return page.locator("#stock-results tbody tr td:first-child").all_inner_texts()


# Live figures ------------------------------------------------------------------------------


def test_a_dashboard_keeps_up_with_a_steady_stream_of_movements(open_page, branch):
    product = ProductFactory()
    manager = manager_of(branch)
    receive(branch, product, "4", manager)
    dashboard = open_page(manager, reverse("home"))
    expect(dashboard.locator("#live-status")).to_have_class(re.compile(r"\bconnected\b"))
    units = dashboard.locator("#stat-units .value")
    expect(units).to_have_text("4")

    # Through the server, as a scanner sends them (what this test commits is not announced).
    _, token = sign_in_device(user=manager, device="Scanner at the door")
    movement = {"branch": str(branch.pk), "product": str(product.pk), "quantity": "1"}

    shown = set()
    for _ in range(12):  # a movement every quarter of a second, for three seconds
        answer = dashboard.request.post(
            reverse("api-stock-receive"),
            data=movement,
            headers={"Authorization": f"Token {token}"},
        )
        assert answer.status == 201, answer.text()
        dashboard.wait_for_timeout(250)
        shown.add(units.inner_text())

    # The figures followed the movements while they kept coming, not only once they stopped.
    assert shown - {"4", "16"}
    expect(units).to_have_text("16")


# Scanning ----------------------------------------------------------------------------------


def test_staff_records_a_receipt_by_scanning_a_barcode_and_pressing_enter(open_page, branch):
    product = ProductFactory(name="Oat milk", barcode="4006381333931")
    staff = staff_of(branch)
    page = open_page(staff, reverse("scan"))

    scan_and_receive(page, "4006381333931", "6")

    latest = page.locator(".scan-log tbody tr").first
    expect(latest).to_contain_text("Oat milk")
    expect(latest).to_contain_text("+6")
    [movement] = StockMovement.objects.filter(branch=branch, product=product)
    assert (movement.kind, movement.delta, movement.actor) == (
        MovementKind.RECEIPT,
        Decimal("6"),
        staff,
    )


def test_a_scanned_receipt_reaches_a_managers_open_stock_list_and_dashboard(open_page, branch):
    product = ProductFactory(name="Oat milk", barcode="4006381333931")
    manager = manager_of(branch)
    level = receive(branch, product, "4", manager)
    staff = staff_of(branch)
    stock_list = open_page(manager, reverse("stock-list"))
    dashboard = stock_list.context.new_page()
    dashboard.goto(reverse("home"))
    for page in (stock_list, dashboard):
        expect(page.locator("#live-status")).to_have_class(re.compile(r"\bconnected\b"))
    expect(level_row(stock_list, level)).to_contain_text("4")
    expect(dashboard.locator("#stat-units .value")).to_have_text("4")

    scanner = open_page(staff, reverse("scan"))
    scan_and_receive(scanner, "4006381333931", "7")

    expect(level_row(stock_list, level).locator("td.number strong").first).to_have_text("11")
    expect(dashboard.locator("#stat-units .value")).to_have_text("11")
    expect(stock_list.locator("#live-status")).to_have_class(re.compile(r"\bconnected\b"))


# The stock list ----------------------------------------------------------------------------


def test_back_restores_the_stock_lists_search_filter_and_order(open_page, branch):
    drinks, bakery = CategoryFactory(name="Drinks"), CategoryFactory(name="Bakery")
    manager = manager_of(branch)
    for name, category, quantity in [
        ("Apple juice", drinks, "5"),
        ("Apple cider", drinks, "30"),
        ("Apple pie", bakery, "12"),
        ("Bread", bakery, "8"),
    ]:
        receive(branch, ProductFactory(name=name, category=category), quantity, manager)
    page = open_page(manager, reverse("stock-list"))
    expect(page.locator("#stock-results tbody tr")).to_have_count(4)

    page.locator("#stock-q").press_sequentially("Apple")
    expect(page).to_have_url(re.compile(r"[?&]q=Apple\b"))
    expect(page.locator("#stock-results tbody tr")).to_have_count(3)
    page.locator("#stock-category").select_option(label="Drinks")
    expect(page).to_have_url(re.compile(rf"[?&]category={drinks.pk}\b"))
    expect(page.locator("#stock-results tbody tr")).to_have_count(2)
    filtered_url = page.url
    assert row_names(page) == ["Apple cider", "Apple juice"]
    page.locator("#sort-on_hand").click()
    expect(page).to_have_url(re.compile(r"[?&]sort=on_hand\b"))
    expect(page.locator("#stock-results tbody tr").first).to_contain_text("Apple juice")

    page.go_back()

    expect(page).to_have_url(filtered_url)
    expect(page.locator("#stock-results tbody tr").first).to_contain_text("Apple cider")
    assert row_names(page) == ["Apple cider", "Apple juice"]
    expect(page.locator("#stock-q")).to_have_value("Apple")


def test_a_reader_who_chose_german_sees_the_stock_list_and_its_form_errors_in_german(
    open_page, branch
):
    manager = manager_of(branch)
    manager.language = "de"
    manager.save(update_fields=["language"])
    receive(branch, ProductFactory(name="Oat milk"), "4", manager)
    page = open_page(manager, reverse("stock-list"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator(".mainnav a[aria-current=page]")).to_have_text(GERMAN["Stock"])

    page.locator("#stock-min").fill("5")
    page.locator("#stock-max").fill("1")

    expect(page.locator("#error-max")).to_have_text(
        GERMAN["This is less than the lowest quantity asked for."]
    )


# The item page -----------------------------------------------------------------------------


def test_a_double_click_on_receive_in_the_item_pages_dialog_records_one_receipt(open_page, branch):
    product = ProductFactory(name="Oat milk")
    manager = manager_of(branch)
    level = receive(branch, product, "4", manager)
    page = open_page(manager, reverse("stock-level", args=[level.pk]))
    posts = []
    page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)
    page.locator(".level-actions").get_by_text("Receive").click()
    dialog = page.locator("#move-receive")
    expect(dialog).to_be_visible()
    dialog.locator("#receive-quantity").fill("3")

    dialog.locator("#move-receive-submit").dblclick()

    expect(dialog).not_to_be_visible()
    for request in posts:
        assert request.response() is not None  # answered: nothing is still on its way
    receipts = StockMovement.objects.filter(branch=branch, product=product, delta=Decimal("3"))
    assert receipts.count() == 1
    level.refresh_from_db()
    assert level.on_hand == Decimal("7")


# Every page --------------------------------------------------------------------------------


PAGES = {
    "dashboard": lambda level: reverse("home"),
    "stock-list": lambda level: reverse("stock-list"),
    "item": lambda level: reverse("stock-level", args=[level.pk]),
    "catalog": lambda level: reverse("products"),
    "product": lambda level: reverse("product", args=[level.product_id]),
    "scan": lambda level: f"{reverse('scan')}?code={level.product.barcode}",
    "alerts": lambda level: reverse("alerts"),
    "account": lambda level: reverse("account"),
}


@pytest.fixture
def a_working_branch(branch):
    """A manager's branch with some stock, a product running low and its open alert, and a
    handheld signed in to the API."""
    manager = manager_of(branch)
    sign_in_device(user=manager, device="Zebra TC52 handheld at the goods-in door")
    low = ProductFactory(
        name="Organic whole-grain spelt flour, stone-ground, 1 kg paper bag",
        barcode="4006381333931",
        category=CategoryFactory(name="Baking supplies and flours"),
    )
    level = receive(branch, low, "12", manager)
    services.issue_stock(
        actor=manager, branch_id=branch.pk, product_id=low.pk, quantity=Decimal("5")
    )
    for name in ("Oat milk", "Rye bread", "Apple juice"):
        receive(branch, ProductFactory(name=name), "40", manager)
    return manager, level


@pytest.mark.parametrize("name", PAGES)
def test_no_page_scrolls_sideways_on_a_phone_or_a_desktop(
    open_page, a_working_branch, screenshots, name
):
    manager, level = a_working_branch
    page = open_page(manager, PAGES[name](level), viewport=WIDE)
    expect(page.locator("main h1")).to_be_visible()
    page.screenshot(path=screenshots / f"{name}-1280.png", full_page=True)
    wide = horizontal_overflow(page)

    page.set_viewport_size(NARROW)

    page.screenshot(path=screenshots / f"{name}-375.png", full_page=True)
    assert (wide, horizontal_overflow(page)) == (0, 0)
