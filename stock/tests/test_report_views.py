"""The report pages under /reports/ and their CSV downloads."""

import csv
import datetime
import io
import re
from decimal import Decimal
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import CategoryFactory, ProductFactory
from inventory_project.tests.helpers import page_client
from stock import services
from stock.views.reports import PER_PAGE

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
REPORTS = ["report-stock-value", "report-movements", "report-movers", "report-reorder"]
UTC = datetime.UTC


def page(user, name, **params):
    return page_client(user).get(reverse(name), params)


def download(user, name, **params):
    return page_client(user).get(reverse(f"{name}-csv"), params)


def rows_of(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def error_of(response, name: str) -> str:
    found = re.search(
        rf'<p class="error field-error" id="error-{name}"[^>]*>([^<]*)<', response.content.decode()
    )
    return found.group(1) if found else ""


def receive(actor, branch, product, quantity, moment=None):
    with mock.patch("django.utils.timezone.now", return_value=moment or timezone.now()):
        return services.receive_stock(
            actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity
        )


def issue(actor, branch, product, quantity, moment=None):
    with mock.patch("django.utils.timezone.now", return_value=moment or timezone.now()):
        return services.issue_stock(
            actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity
        )


@pytest.fixture
def admin():
    return AdminFactory()


@pytest.fixture
def elsewhere():
    return BranchFactory(code="HAM-01")


# Who may read them -----------------------------------------------------------------------


def test_the_index_names_every_report(admin):
    content = page(admin, "reports").content.decode()

    for name in REPORTS:
        assert f'href="{reverse(name)}"' in content


@pytest.mark.parametrize("name", ["reports", *REPORTS])
def test_staff_are_refused_in_words(staff, name):
    response = page(staff, name)

    assert response.status_code == 403
    assert "Only managers and administrators read the reports." in response.content.decode()


@pytest.mark.parametrize("name", REPORTS)
def test_staff_are_refused_the_download(staff, name):
    assert download(staff, name).status_code == 403


@pytest.mark.parametrize("name", ["reports", *REPORTS])
def test_a_branch_the_manager_may_not_see_is_not_found(manager, elsewhere, name):
    assert page(manager, name, branch=elsewhere.code).status_code == 404


@pytest.mark.parametrize("name", REPORTS)
def test_a_branch_the_manager_may_not_see_is_not_found_in_the_download(manager, elsewhere, name):
    assert download(manager, name, branch=elsewhere.code).status_code == 404


@pytest.mark.parametrize("name", ["reports", *REPORTS])
def test_the_sign_in_page_comes_first(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert "/account/sign-in/" in response["Location"]


def test_a_manager_reads_only_their_branchs_figures(admin, manager, branch, elsewhere, product):
    receive(admin, branch, product, "3")
    receive(admin, elsewhere, product, "40")

    rows = rows_of(download(manager, "report-stock-value"))

    assert [(row["branch"], row["quantity"]) for row in rows] == [(branch.code, "3.000")]


# Stock value -----------------------------------------------------------------------------


def test_the_stock_value_of_a_past_day_shows_what_was_held_then(admin, branch):
    product = ProductFactory(cost_price=Decimal("2.50"))
    receive(admin, branch, product, "4", datetime.datetime(2026, 3, 1, 10, tzinfo=UTC))
    receive(admin, branch, product, "6", datetime.datetime(2026, 3, 3, 10, tzinfo=UTC))

    response = page(admin, "report-stock-value", as_of="2026-03-02")

    content = response.content.decode()
    assert re.search(r'id="report-total">10\.00<', content)
    assert "at the end of" in content


def test_the_stock_value_today_is_the_value_of_what_is_on_hand(admin, branch):
    product = ProductFactory(cost_price=Decimal("2.50"))
    receive(admin, branch, product, "4")

    response = page(admin, "report-stock-value")

    assert re.search(r'id="report-total">10\.00<', response.content.decode())


def test_a_day_that_has_not_ended_is_an_error_beside_its_field(admin, branch):
    tomorrow = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()

    response = page(admin, "report-stock-value", as_of=tomorrow)

    assert response.status_code == 200
    assert "is still to come" in error_of(response, "as_of")
    assert f'value="{tomorrow}"' in response.content.decode()
    assert 'id="report-results"' in response.content.decode()
    assert "report-export" not in response.content.decode()


@pytest.mark.parametrize("value", ["yesterday", "2026-02-30", "0001-01-01"])
def test_a_day_that_is_not_one_is_an_error_not_a_crash(admin, value):
    response = page(admin, "report-stock-value", as_of=value)

    assert response.status_code == 200
    assert error_of(response, "as_of")


def test_a_nul_character_in_the_day_is_an_error_beside_it_not_a_crash(admin):
    response = page(admin, "report-stock-value", as_of="\x00")

    assert response.status_code == 200
    assert error_of(response, "as_of")


@pytest.mark.parametrize("value", ["nonsense", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_category_is_an_error_beside_its_field(admin, value):
    response = page(admin, "report-stock-value", category=value)

    assert response.status_code == 200
    assert error_of(response, "category")


def test_the_stock_value_download_holds_the_rows_of_the_table(admin, branch, elsewhere):
    tools, food = CategoryFactory(name="Tools"), CategoryFactory(name="Food")
    receive(admin, branch, ProductFactory(category=tools, cost_price=Decimal("3")), "2")
    receive(admin, branch, ProductFactory(category=food, cost_price=Decimal("1.5")), "4")
    receive(admin, elsewhere, ProductFactory(category=food, cost_price=Decimal("1")), "1")

    response = download(admin, "report-stock-value")

    day = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="stock-value-{day}.csv"'
    assert [
        (row["branch"], row["category"], row["products"], row["value_at_cost"])
        for row in rows_of(response)
    ] == [
        (branch.code, "Food", "1", "6.00"),
        (branch.code, "Tools", "1", "6.00"),
        ("HAM-01", "Food", "1", "1.00"),
    ]


def test_a_download_with_a_bad_filter_is_refused_with_the_error(admin):
    response = download(admin, "report-stock-value", as_of="2999-01-01")

    assert response.status_code == 400
    assert "is still to come" in error_of(response, "as_of")


def test_a_filter_changed_gets_the_results_and_the_tidy_address(admin, branch):
    response = page_client(admin).get(
        reverse("report-stock-value"), {"as_of": "2026-03-02", "category": ""}, **HTMX
    )

    assert response.content.decode().startswith('<section id="report-results"')
    assert response["HX-Push-Url"] == f"/reports/stock-value/?branch={branch.code}&as_of=2026-03-02"


def test_errors_travel_with_the_partial(admin):
    response = page_client(admin).get(
        reverse("report-stock-value"), {"as_of": "2999-01-01"}, **HTMX
    )

    assert 'id="error-as_of" hx-swap-oob="true"' in response.content.decode()


# Movements -------------------------------------------------------------------------------


def test_movements_are_counted_per_day_by_branch_and_kind(admin, branch, product):
    receive(admin, branch, product, "5", datetime.datetime(2026, 3, 1, 10, tzinfo=UTC))
    issue(admin, branch, product, "2", datetime.datetime(2026, 3, 1, 11, tzinfo=UTC))
    receive(admin, branch, product, "1", datetime.datetime(2026, 3, 2, 11, tzinfo=UTC))

    rows = rows_of(
        download(admin, "report-movements", **{"from": "2026-03-01", "to": "2026-03-05"})
    )

    assert [
        (r["period_start"], r["receipt_movements"], r["issue_movements"], r["issue_quantity"])
        for r in rows
    ] == [("2026-03-01", "1", "1", "-2.000"), ("2026-03-02", "1", "0", "0.000")]


def test_the_movement_chart_has_a_column_per_period(admin, branch, product):
    receive(admin, branch, product, "5", datetime.datetime(2026, 3, 4, 10, tzinfo=UTC))

    response = page(admin, "report-movements", **{"from": "2026-03-01", "to": "2026-03-07"})

    content = response.content.decode()
    assert len(re.findall(r'<g class="period"', content)) == 7
    assert 'data-period="2026-03-04" data-total="1"' in content


def test_a_range_that_ends_before_it_starts_is_an_error_beside_its_field(admin):
    response = page(admin, "report-movements", **{"from": "2026-03-05", "to": "2026-03-01"})

    assert error_of(response, "from") == "This is after the last day asked for."
    assert 'value="2026-03-05"' in response.content.decode()


def test_a_range_too_long_for_days_asks_for_weeks(admin):
    response = page(admin, "report-movements", **{"from": "2026-01-01", "to": "2026-12-31"})

    assert "choose weeks or months" in error_of(response, "from")


def test_the_same_range_by_month_is_shown(admin, branch, product):
    receive(admin, branch, product, "1", datetime.datetime(2026, 6, 1, tzinfo=UTC))

    response = page(
        admin, "report-movements", granularity="month", **{"from": "2026-01-01", "to": "2026-12-31"}
    )

    assert error_of(response, "from") == ""
    assert len(re.findall(r'<g class="period"', response.content.decode())) == 12


def test_an_unknown_granularity_is_an_error_beside_its_field(admin):
    response = page(admin, "report-movements", granularity="year")

    assert response.status_code == 200
    assert error_of(response, "granularity")


def test_movement_rows_are_paged(admin, product):
    branches = BranchFactory.create_batch(PER_PAGE + 3)
    day = datetime.datetime(2026, 3, 1, 10, tzinfo=UTC)
    for branch in branches:
        receive(admin, branch, product, "1", day)
    client = page_client(admin)
    params = {"from": "2026-03-01", "to": "2026-03-01"}

    first = client.get(reverse("report-movements"), params).content.decode()
    following = re.search(r'id="report-next" rel="next" href="([^"]+)"', first).group(1)
    second = client.get(reverse("report-movements") + following.replace("&amp;", "&"))

    assert first.count('<td data-label="Branch"') == PER_PAGE
    assert second.content.decode().count('<td data-label="Branch"') == 3


# Movers ----------------------------------------------------------------------------------


def test_top_and_slow_movers_are_listed(admin, branch):
    busy, idle = ProductFactory(name="Busy"), ProductFactory(name="Idle")
    receive(admin, branch, busy, "10")
    receive(admin, branch, idle, "10")
    issue(admin, branch, busy, "4")

    content = page(admin, "report-movers").content.decode()

    top = content.split('id="top-movers"')[1].split('id="slow-movers"')[0]
    slow = content.split('id="slow-movers"')[1]
    assert "Busy" in top
    assert "Idle" not in top
    assert "Idle" in slow
    assert re.search(r'data-label="Last issued" class="number">never<', slow)


def test_the_movers_downloads_hold_each_list(admin, branch):
    busy, idle = ProductFactory(sku="BUSY"), ProductFactory(sku="IDLE")
    receive(admin, branch, busy, "10")
    receive(admin, branch, idle, "10")
    issue(admin, branch, busy, "4")

    top = rows_of(download(admin, "report-movers", list="top"))
    slow = rows_of(download(admin, "report-movers", list="slow"))

    assert [(r["rank"], r["sku"], r["issued"], r["issues"]) for r in top] == [
        ("1", "BUSY", "4.000", "1")
    ]
    assert [(r["sku"], r["on_hand"], r["last_issue"]) for r in slow] == [("IDLE", "10.000", "")]


def test_a_movers_range_longer_than_a_year_is_an_error(admin):
    response = page(admin, "report-movers", **{"from": "2024-01-01", "to": "2026-01-01"})

    assert "Choose at most 366 days" in error_of(response, "from")


@pytest.mark.parametrize("value", ["7", "many", "-1"])
def test_a_limit_not_offered_is_an_error(admin, value):
    response = page(admin, "report-movers", limit=value)

    assert response.status_code == 200
    assert error_of(response, "limit")


# Reorder ---------------------------------------------------------------------------------


@pytest.fixture
def shortage(admin, branch, elsewhere):
    """A product low at the branch (2 of 10) that HAM-01 holds 45 of (25 spare)."""
    product = ProductFactory(sku="SKU/7", low_stock_threshold=Decimal("10"))
    receive(admin, branch, product, "2")
    receive(admin, elsewhere, product, "45")
    return product


def request_links(response) -> list[str]:
    return [
        link.replace("&amp;", "&")
        for link in re.findall(
            r'class="request-transfer" href="([^"]+)"', response.content.decode()
        )
    ]


def test_a_low_item_offers_a_transfer_request_from_the_branch_with_a_surplus(
    admin, branch, shortage
):
    response = page(admin, "report-reorder", branch=branch.code)

    (link,) = request_links(response)
    address = urlsplit(link)
    assert address.path == "/transfers/new/"
    assert parse_qs(address.query) == {
        "kind": ["request"],
        "from": ["HAM-01"],
        "to": [branch.code],
        "product": ["SKU/7"],
        "quantity": ["18"],
    }
    assert "HAM-01: 25 spare" in response.content.decode()


def test_a_surplus_the_manager_may_not_see_is_only_said_to_be_elsewhere(manager, shortage):
    response = page(manager, "report-reorder")

    content = response.content.decode()
    assert '<span class="hidden-surplus">Available elsewhere: ask the warehouse.</span>' in content
    assert "HAM-01" not in content
    assert request_links(response) == []


def test_a_manager_of_both_branches_sees_the_surplus_named(shortage, branch, elsewhere):
    both = MembershipFactory(branch=branch, role=Role.MANAGER).user
    MembershipFactory(user=both, branch=elsewhere, role=Role.MANAGER)

    response = page(both, "report-reorder", branch=branch.code)

    assert len(request_links(response)) == 1
    assert 'class="hidden-surplus"' not in response.content.decode()


def test_the_reorder_download_holds_every_page(admin, branch, elsewhere):
    products = ProductFactory.create_batch(PER_PAGE + 4, low_stock_threshold=Decimal("10"))
    services.record_stock_batch(
        actor=admin,
        branch_id=branch.pk,
        kind="RECEIPT",
        lines=[services.MovementLine(p.pk, Decimal("1")) for p in products],
    )

    rows = rows_of(download(admin, "report-reorder", branch=branch.code))

    assert len(rows) == PER_PAGE + 4
    assert {row["suggested_quantity"] for row in rows} == {"19"}
    assert {row["sku"] for row in rows} == {p.sku for p in products}


def test_the_reorder_download_names_only_branches_the_reader_may_see(manager, shortage):
    (row,) = rows_of(download(manager, "report-reorder"))

    assert (row["surplus_elsewhere"], row["more_elsewhere_not_shown"]) == ("", "yes")


def test_a_level_with_a_rule_shows_its_minimum_and_maximum_and_is_brought_to_the_maximum(
    admin, branch, shortage
):
    services.set_reorder_rule(
        actor=admin, branch_id=branch.pk, product_id=shortage.pk, minimum="4", maximum="30"
    )

    content = page(admin, "report-reorder", branch=branch.code).content.decode()

    assert (
        '<td data-label="Minimum" class="number reorder-minimum">'
        '<span>4 <span class="help reorder-rule">(rule)</span></span></td>'
    ) in content
    assert '<td data-label="Maximum" class="number reorder-maximum">30</td>' in content
    assert "<strong>28</strong>" in content


def test_a_level_without_a_rule_shows_its_threshold_and_twice_that(admin, branch, shortage):
    content = page(admin, "report-reorder", branch=branch.code).content.decode()

    assert '<td data-label="Minimum" class="number reorder-minimum"><span>10</span></td>' in content
    assert '<td data-label="Maximum" class="number reorder-maximum">20</td>' in content


def test_the_reorder_download_has_the_minimum_and_maximum(admin, branch, shortage):
    services.set_reorder_rule(
        actor=admin, branch_id=branch.pk, product_id=shortage.pk, minimum="4", maximum="30"
    )

    (row,) = rows_of(download(admin, "report-reorder", branch=branch.code))

    assert (row["threshold"], row["minimum"], row["maximum"], row["from_rule"]) == (
        "10.000",
        "4.000",
        "30.000",
        "yes",
    )
    assert row["suggested_quantity"] == "28"


def test_the_reorder_report_points_a_manager_to_the_replenishment_page(manager, branch):
    content = page(manager, "report-reorder", branch=branch.code).content.decode()

    link = re.search(r'id="reorder-replenishment">.*?href="([^"]+)"', content, re.S).group(1)
    assert link == f"{reverse('replenishment')}?branch={branch.code}"


def test_a_reorder_page_past_the_end_says_so(admin, shortage):
    response = page(admin, "report-reorder", page="40")

    assert "past the end of the report" in response.content.decode()


@pytest.mark.parametrize("value", ["0", "two", "-3", "99999999999999999999999"])
def test_a_reorder_page_that_is_not_one_means_the_first(admin, shortage, value):
    response = page(admin, "report-reorder", page=value)

    assert response.status_code == 200
    assert len(request_links(response)) == 1


# Constant queries ------------------------------------------------------------------------


def _fill(admin, branches, size):
    """``size`` products low at the first branch, held and issued at each, over two days."""
    products = ProductFactory.create_batch(size, low_stock_threshold=Decimal("10"))
    for day in (1, 2):
        moment = datetime.datetime(2026, 3, day, 12, tzinfo=UTC)
        for branch in branches:
            with mock.patch("django.utils.timezone.now", return_value=moment):
                services.record_stock_batch(
                    actor=admin,
                    branch_id=branch.pk,
                    kind="RECEIPT",
                    lines=[
                        services.MovementLine(p.pk, Decimal(3 if branch == branches[0] else 30))
                        for p in products
                    ],
                )
                services.record_stock_batch(
                    actor=admin,
                    branch_id=branch.pk,
                    kind="ISSUE",
                    lines=[services.MovementLine(p.pk, Decimal("1")) for p in products],
                )
    for product in products[::2]:  # reorder rules at some levels, defaults at the others
        services.set_reorder_rule(
            actor=admin,
            branch_id=branches[0].pk,
            product_id=product.pk,
            minimum="5",
            maximum="25",
        )


REPORT_PARAMS = {
    "report-stock-value": {"as_of": "2026-03-01"},
    "report-movements": {"from": "2026-03-01", "to": "2026-03-03"},
    "report-movers": {"from": "2026-03-01", "to": "2026-03-03"},
    "report-reorder": {},
}


@pytest.mark.parametrize("who", ["admin", "manager"])
@pytest.mark.parametrize("name", REPORTS)
def test_a_report_costs_the_same_queries_however_much_it_covers(admin, manager, branch, name, who):
    reader = {"admin": admin, "manager": manager}[who]
    client = page_client(reader)
    client.get(reverse("reports"))  # the session's first request
    counted = []
    for size in (2, 12):
        _fill(admin, [branch, BranchFactory()], size)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse(name), REPORT_PARAMS[name])
        assert response.status_code == 200
        counted.append(len(queries))

    assert counted[0] == counted[1] == QUERIES[name][who]


# The session and its user, the reader's rights and branches, the categories offered, the
# shell (branches, open alerts), then the report's own: one query (stock value, movements),
# two (movers: top and slow), or three (reorder: the low levels, the surplus, the rights).
QUERIES = {
    "report-stock-value": {"admin": 7, "manager": 9},
    "report-movements": {"admin": 7, "manager": 9},
    "report-movers": {"admin": 8, "manager": 10},
    "report-reorder": {"admin": 8, "manager": 11},
}


@pytest.mark.parametrize("name", REPORTS)
def test_a_download_costs_the_same_queries_however_much_it_covers(admin, branch, name):
    client = page_client(admin)
    client.get(reverse("reports"))
    counted = []
    for size in (2, 12):
        _fill(admin, [branch, BranchFactory()], size)
        with CaptureQueriesContext(connection) as queries:
            rows = rows_of(client.get(reverse(f"{name}-csv"), REPORT_PARAMS[name]))
        assert rows
        counted.append(len(queries))

    assert counted[0] == counted[1]


def test_the_transfer_request_link_opens_the_new_transfer_filled_in(admin, branch, shortage):
    (link,) = request_links(page(admin, "report-reorder", branch=branch.code))

    response = page_client(admin).get(link)

    content = response.content.decode()
    assert response.status_code == 200
    assert 'value="SKU/7"' in content
    assert 'value="18"' in content
