"""The dashboard page at /: its figures, charts and activity feed, whole and as live parts."""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory, UserFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import CategoryFactory, ProductFactory
from inventory_project.tests.helpers import page_client
from stock import services as stock
from stock.models import StockLevel
from transfers import services as transfers
from transfers.tests.factories import items, requested, sent

pytestmark = pytest.mark.django_db

HOME = reverse("home")
HTMX = {"HTTP_HX_REQUEST": "true"}


def receive(actor, branch, product, quantity):
    stock.receive_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity)
    return StockLevel.objects.get(branch=branch, product=product)


def issue(actor, branch, product, quantity):
    stock.issue_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity)


def member(branch, role):
    return MembershipFactory(branch=branch, role=role, user=UserFactory(full_name="Ana Berg")).user


def stat(response, name):
    """The number a card shows, as text."""
    html = response.content.decode()
    match = re.search(rf'id="stat-{name}".*?<span class="value">([^<]*)</span>', html, re.S)
    assert match, f"no card {name}"
    return match.group(1).strip()


@pytest.fixture
def shop(actor):
    """BER-01 holding oat milk (plenty) and flour (low, alerted), a transfer on its way in
    from WH-01 and one requested out to HAM-01."""
    berlin = BranchFactory(code="BER-01", name="Berlin")
    warehouse = BranchFactory(code="WH-01")
    hamburg = BranchFactory(code="HAM-01")
    drinks = CategoryFactory(name="Drinks")
    baking = CategoryFactory(name="Baking")
    milk = ProductFactory(name="Oat milk", category=drinks, cost_price=Decimal("1.50"))
    flour = ProductFactory(name="Flour", category=baking, cost_price=Decimal("0.80"))
    receive(actor, berlin, milk, 50)  # 75.00 at cost
    flour_level = receive(actor, berlin, flour, 12)
    issue(actor, berlin, flour, 8)  # 4 left, below the default threshold of 10: 3.20 at cost
    assert flour_level.alerts.get().status == "OPEN"  # raised by the issue
    receive(actor, warehouse, milk, 30)
    inbound = sent(actor, warehouse, berlin, (milk, 5))
    transfers.ship_transfer(actor=actor, transfer_id=inbound.pk)
    requested(actor, berlin, hamburg, (milk, 2))  # out of BER-01, still requested
    return {"berlin": berlin, "warehouse": warehouse, "hamburg": hamburg, "milk": milk}


# The figures -----------------------------------------------------------------------------


def test_the_cards_show_the_figures_of_the_chosen_branch(actor, shop):
    response = page_client(actor).get(HOME, {"branch": "BER-01"})

    assert response.status_code == 200
    assert stat(response, "products") == "2"
    assert stat(response, "units") == "54"
    assert stat(response, "value") == "78"  # 75.00 + 3.20, whole on the card
    assert stat(response, "low") == "1"
    assert stat(response, "alerts") == "1"
    assert stat(response, "inbound") == "1"
    assert stat(response, "outbound") == "1"
    assertContains(response, f'href="{reverse("alerts")}?branch=BER-01"')
    assertContains(response, "<h1>Dashboard of BER-01</h1>", html=True)


def test_all_branches_add_up_and_count_a_transfer_between_them_both_ways(actor, shop):
    response = page_client(actor).get(HOME, {"branch": "all"})

    assert stat(response, "products") == "2"  # oat milk at two branches is one product
    assert stat(response, "units") == "79"  # 54 at BER-01, 25 left at WH-01
    assert stat(response, "inbound") == "2"  # into BER-01, into HAM-01
    assert stat(response, "outbound") == "2"  # out of WH-01, out of BER-01
    assertContains(response, "<h1>Dashboard of all my branches</h1>", html=True)


def test_a_transfer_received_in_full_is_no_longer_under_way(actor, shop):
    inbound = shop["berlin"].transfers_in.get()
    transfers.receive_transfer(actor=actor, transfer_id=inbound.pk, quantities={shop["milk"].pk: 5})

    response = page_client(actor).get(HOME, {"branch": "BER-01"})

    assert stat(response, "inbound") == "0"
    assert stat(response, "units") == "59"


def test_staff_see_their_own_branch_only(shop):
    staff = member(shop["berlin"], Role.STAFF)
    client = page_client(staff)

    response = client.get(HOME)

    assert response.status_code == 200
    assert response.context["branch"] == shop["berlin"]
    assert stat(response, "units") == "54"
    assert not any("30 pcs" in line["text"] for line in response.context["feed"])  # WH-01's
    assert client.get(HOME, {"branch": "WH-01"}).status_code == 404
    assert client.get(HOME, {"branch": "NOWHERE"}).status_code == 404
    assert client.get(HOME, {"branch": "WH-01", "part": "cards"}, **HTMX).status_code == 404


def test_a_manager_of_two_branches_sees_both_together_or_one(shop):
    manager = member(shop["berlin"], Role.MANAGER)
    MembershipFactory(user=manager, branch=shop["hamburg"], role=Role.MANAGER)
    client = page_client(manager)

    together = client.get(HOME)
    one = client.get(HOME, {"branch": "HAM-01"})

    assert together.context["branch"] is None
    assert stat(together, "inbound") == "2"  # into BER-01 and into HAM-01
    assert stat(together, "units") == "54"  # WH-01 is not theirs
    assert stat(one, "units") == "0"
    assert stat(one, "inbound") == "1"
    assert client.get(HOME, {"branch": "WH-01"}).status_code == 404


def test_a_visitor_is_asked_to_sign_in(client):
    response = client.get(HOME)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# The live parts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "root", "events"),
    [
        ("cards", 'id="dash-cards"', "stock.changed alert.raised alert.resolved transfer.updated"),
        ("charts", 'id="dash-charts"', "stock.changed"),
        ("feed", 'id="dash-feed"', "stock.changed transfer.updated"),
    ],
)
def test_each_part_is_served_alone_for_htmx_and_refreshes_itself_live(
    actor, shop, part, root, events
):
    client = page_client(actor)

    alone = client.get(HOME, {"branch": "BER-01", "part": part}, **HTMX)
    page = client.get(HOME, {"branch": "BER-01"})

    html = alone.content.decode()
    assert alone.status_code == 200
    assert html.lstrip().startswith(f"<{'div' if part == 'charts' else 'section'} {root}")
    assert "<html" not in html
    assert "<main" not in html
    others = {"cards": "dash-cards", "charts": "dash-charts", "feed": "dash-feed"}
    for other, element in others.items():
        assert (f'id="{element}"' in html) == (other == part)
        assertContains(page, f'id="{element}"')
    (live_on,) = re.findall(r'data-live-on="([^"]*)"', html)
    assert set(events.split()) <= set(live_on.split())
    assert f'data-live-branch="{shop["berlin"].pk}"' in html
    assert f'hx-get="{HOME}?branch=BER-01&amp;part={part}"' in html
    assert 'hx-trigger="live:refresh' in html


def test_a_part_asked_for_without_htmx_is_the_whole_page(actor, shop):
    response = page_client(actor).get(HOME, {"branch": "BER-01", "part": "cards"})

    assertContains(response, "<main")
    assertContains(response, 'id="dash-feed"')


def test_the_parts_of_all_branches_follow_every_branch(actor, shop):
    response = page_client(actor).get(HOME, {"part": "cards"}, **HTMX)

    assertNotContains(response, "data-live-branch")
    assertContains(response, f'hx-get="{HOME}?part=cards"')


# The charts ------------------------------------------------------------------------------


def test_the_value_chart_has_a_bar_per_category_by_value(actor, shop):
    response = page_client(actor).get(HOME, {"branch": "BER-01", "part": "charts"}, **HTMX)

    html = response.content.decode()
    svg = html[html.index('<svg id="value-chart"') : html.index("</svg>")]
    assert 'role="img"' in svg
    assert '<title id="value-chart-svg-title">' in svg
    assert re.findall(r'data-value="([^"]*)"', svg) == ["75.00", "3.20"]
    widths = [float(w) for w in re.findall(r'<rect x="0" y="\d+" width="([^"]*)"', svg)]
    assert widths == [400.0, round(3.2 / 75 * 400, 1)]
    assert "<title>Drinks: 75.00</title>" in svg
    assert "<title>Baking: 3.20</title>" in svg
    assertContains(response, '<td class="number">78.20</td>', html=True)  # the numbers, as text


def test_the_movement_chart_stacks_todays_movements_by_kind(actor, shop):
    response = page_client(actor).get(HOME, {"branch": "BER-01", "part": "charts"}, **HTMX)

    html = response.content.decode()
    svg = html[html.index('<svg id="movement-chart"') :]
    svg = svg[: svg.index("</svg>")]
    days = re.findall(r'<g class="day" data-day="([^"]*)" data-total="(\d+)">', svg)
    assert len(days) == 30
    # BER-01: 2 receipts, 1 issue today (the transfer has not arrived).
    assert [int(total) for _day, total in days] == [0] * 29 + [3]
    today = svg[svg.index(f'data-day="{days[-1][0]}"') :]
    segments = re.findall(r'data-kind="(\w+)" data-count="(\d+)"', today)
    assert segments == [("RECEIPT", "2"), ("ISSUE", "1")]
    assert "2 Receipts, 1 Issues" in today
    assertContains(response, "Receipts")  # the legend, in words
    assertContains(response, "Transfers in")


def test_the_source_of_a_shipment_counts_it_as_a_transfer_out(actor, shop):
    response = page_client(actor).get(HOME, {"branch": "WH-01", "part": "charts"}, **HTMX)

    assert re.findall(r'data-kind="(\w+)" data-count="(\d+)"', response.content.decode()) == [
        ("RECEIPT", "1"),
        ("TRANSFER_OUT", "1"),
    ]


# The activity feed -----------------------------------------------------------------------


def test_the_feed_says_who_did_what_where_newest_first_with_links(actor, shop):
    staff = member(shop["berlin"], Role.STAFF)
    level = receive(staff, shop["berlin"], shop["milk"], 3)

    response = page_client(staff).get(HOME, {"part": "feed"}, **HTMX)

    lines = response.context["feed"]
    assert lines[0]["text"] == "Ana received 3 pcs of Oat milk at BER-01"
    assert lines[0]["url"] == reverse("stock-level", args=[level.pk])
    assertContains(
        response,
        f'<a href="{reverse("stock-level", args=[level.pk])}">'
        "Ana received 3 pcs of Oat milk at BER-01</a>",
    )
    texts = [line["text"] for line in lines]
    reference = shop["berlin"].transfers_in.get().reference
    assert f"WH-01 → BER-01 {reference} shipped by {actor.get_short_name()}" in texts
    assert any(text.endswith("issued 8 pcs of Flour at BER-01") for text in texts)
    # WH-01's own receipt is not BER-01's business.
    assert not any("at WH-01" in text for text in texts)
    assert [line["at"] for line in lines] == sorted((line["at"] for line in lines), reverse=True)


def test_the_feed_keeps_the_latest_twenty(actor, branch):
    product = ProductFactory()
    for n in range(25):
        receive(actor, branch, product, n + 1)

    response = page_client(actor).get(HOME, {"branch": branch.code, "part": "feed"}, **HTMX)

    texts = [line["text"] for line in response.context["feed"]]
    assert len(texts) == 20
    assert texts[0].endswith(f"received 25 pcs of {product.name} at {branch.code}")
    assert texts[-1].endswith(f"received 6 pcs of {product.name} at {branch.code}")


# A new branch ----------------------------------------------------------------------------


def test_a_new_branch_is_told_to_receive_its_first_delivery(actor):
    BranchFactory(code="NEW-01")

    response = page_client(actor).get(HOME, {"branch": "NEW-01"})

    assertContains(response, "NEW-01 holds nothing yet.")
    assertContains(response, "Receive your first delivery")
    assertContains(response, "Nothing has happened here yet.")
    assertContains(response, "No movement in the last 30 days.")
    assertNotContains(response, "<svg id=")


def test_the_first_delivery_ends_the_empty_state(actor):
    new = BranchFactory(code="NEW-01")
    receive(actor, new, ProductFactory(cost_price=Decimal("2.00")), 1)

    response = page_client(actor).get(HOME, {"branch": "NEW-01", "part": "cards"}, **HTMX)

    assertNotContains(response, "holds nothing yet")
    assert stat(response, "products") == "1"


def test_someone_without_a_branch_is_told_to_ask_for_one():
    response = page_client(UserFactory()).get(HOME)

    assert response.status_code == 200
    assertContains(response, "You have no role at any branch yet.")


# Queries ---------------------------------------------------------------------------------


def stocked_branches(actor, count, products):
    """``count`` branches with ``products`` products each, some low, some alerted, with
    movements, transfers between them and their steps."""
    branches = BranchFactory.create_batch(count)
    catalog = [ProductFactory(cost_price=Decimal("1.25")) for _ in range(products)]
    for branch in branches:
        for product in catalog:
            receive(actor, branch, product, 20)
            issue(actor, branch, product, 15)  # below the threshold of 10: an alert
    for source, destination in zip(branches, branches[1:] + branches[:1], strict=True):
        transfer = transfers.send_transfer(
            actor=actor,
            from_branch_id=source.pk,
            to_branch_id=destination.pk,
            items=items((catalog[0], 1)),
        )
        transfers.ship_transfer(actor=actor, transfer_id=transfer.pk)
    return branches


# Session and user, then each part's own: the shell's branches; the figures (holdings, low
# levels, alerts, movements today, distinct products) and transfers; value by category and
# movements by day; the feed's movements and transfer steps. The whole page adds the shell's
# open-alert badge (and, for members, their rights for the navigation). With event numbers
# shared in Redis, the figures and the charts are kept from the warm-up.
KEPT = bool(settings.REDIS_URL)
QUERIES = {"cards": 4 if KEPT else 9, "charts": 3 if KEPT else 5, "feed": 5}
PAGE_QUERIES = {"admin": 7 if KEPT else 14, "manager": 8 if KEPT else 15}


@pytest.mark.parametrize("size", [(2, 2), (4, 12)])
@pytest.mark.parametrize("part", ["cards", "charts", "feed"])
def test_each_part_costs_the_same_queries_whatever_the_data(
    actor, size, part, django_assert_num_queries
):
    branches = stocked_branches(actor, *size)
    client = page_client(AdminFactory())
    client.get(HOME)  # warm up

    with django_assert_num_queries(QUERIES[part]):
        response = client.get(HOME, {"part": part}, **HTMX)

    assert response.status_code == 200
    if part == "cards":
        assert stat(response, "inbound") == str(size[0])
        assert stat(response, "alerts") == str(size[0] * size[1])
    if part == "feed":
        assert len(response.context["feed"]) == min(20, 2 * size[0] * size[1] + 3 * size[0])
    assert len(branches) == size[0]


@pytest.mark.parametrize("size", [(2, 2), (4, 12)])
@pytest.mark.parametrize("who", ["admin", "manager"])
def test_the_whole_page_costs_the_same_queries_whatever_the_data(
    actor, size, who, django_assert_num_queries
):
    branches = stocked_branches(actor, *size)
    if who == "admin":
        user = AdminFactory()
    else:
        user = UserFactory()
        for branch in branches:
            MembershipFactory(user=user, branch=branch, role=Role.MANAGER)
    client = page_client(user)
    client.get(HOME)  # warm up

    with django_assert_num_queries(PAGE_QUERIES[who]):
        response = client.get(HOME)

    assert response.status_code == 200
    assert stat(response, "alerts") == str(size[0] * size[1])
