"""The stock level list and the ledger page by cursor: following next (or previous) walks the
list once, in order, at one query a page; cursors are the list's own or a 400."""

import base64
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AdminFactory, UserFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import api_client
from stock import services
from stock.models import StockLevel

pytestmark = pytest.mark.django_db

LEVELS = "api-stock-levels"
MOVEMENTS = "api-movements"
ORDERINGS = ["", "name", "-name", "sku", "-sku", "on_hand", "-on_hand", "updated", "-updated"]


@pytest.fixture
def admin():
    return AdminFactory()


@pytest.fixture
def ties(admin, branch):
    """23 levels whose names, quantities and times of change repeat (so each sort has ties
    that only the id breaks); quantities with decimals."""
    now = timezone.now()
    for n in range(23):
        product = ProductFactory(name=f"Item {n % 4}", sku=f"T-{(n * 7) % 23:03}", unit="kg")
        movement = services.receive_stock(
            actor=admin,
            branch_id=branch.pk,
            product_id=product.pk,
            quantity=[Decimal("1.5"), Decimal("2"), Decimal("0.001")][n % 3],
        )
        moment = now - timedelta(minutes=n % 3, microseconds=n % 2)
        StockLevel.objects.filter(pk=movement.stock_level_id).update(updated_at=moment)


def get(user, name: str = LEVELS, **params):
    return api_client(user).get(reverse(name), params)


def walk(user, first: dict, *, towards: str = "next") -> list[dict]:
    """Every page from ``first`` on, following ``towards`` links."""
    pages = [first]
    while pages[-1][towards]:
        response = api_client(user).get(pages[-1][towards])
        assert response.status_code == 200, response.json()
        pages.append(response.json())
    return pages


def ids(page: dict) -> list[str]:
    return [row["id"] for row in page["results"]]


def cursor_of(link: str) -> str:
    return link.split("cursor=")[1].split("&")[0]


# Walking ----------------------------------------------------------------------------------


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_following_next_lists_every_level_once_in_order(admin, branch, ties, ordering):
    params = {"branch": branch.pk, **({"ordering": ordering} if ordering else {})}
    whole = ids(get(admin, limit=200, **params).json())

    pages = walk(admin, get(admin, limit=5, **params).json())

    walked = [one for page in pages for one in ids(page)]
    assert walked == whole
    assert len(walked) == len(set(walked)) == 23
    assert [len(page["results"]) for page in pages] == [5, 5, 5, 5, 3]
    assert all("cursor=" in page["next"] for page in pages[:-1])


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_following_previous_from_the_last_page_walks_back_to_the_first(
    admin, branch, ties, ordering
):
    params = {"branch": branch.pk, **({"ordering": ordering} if ordering else {})}
    forward = walk(admin, get(admin, limit=5, **params).json())

    backward = walk(admin, forward[-1], towards="previous")

    assert [ids(page) for page in backward] == [ids(page) for page in reversed(forward)]
    assert backward[-1]["previous"] is None


def test_previous_from_the_third_page_is_the_second(admin, branch, ties):
    first = get(admin, limit=5, branch=branch.pk, ordering="-on_hand").json()
    second = api_client(admin).get(first["next"]).json()
    third = api_client(admin).get(second["next"]).json()

    back = api_client(admin).get(third["previous"]).json()

    assert ids(back) == ids(second)
    assert back["next"] == second["next"]
    assert ids(api_client(admin).get(back["previous"]).json()) == ids(first)


def test_the_ledger_walks_newest_first_through_movements_of_one_moment(admin, branch):
    products = ProductFactory.create_batch(7)
    for _ in range(2):  # a batch writes its movements at one moment: ties of created_at
        services.record_stock_batch(
            actor=admin,
            branch_id=branch.pk,
            kind="RECEIPT",
            lines=[services.MovementLine(product_id=p.pk, quantity=1) for p in products],
        )
    whole = ids(get(admin, MOVEMENTS, limit=200).json())

    pages = walk(admin, get(admin, MOVEMENTS, limit=3).json())
    backward = walk(admin, pages[-1], towards="previous")

    assert [one for page in pages for one in ids(page)] == whole
    assert len(whole) == 14
    assert [ids(page) for page in backward] == [ids(page) for page in reversed(pages)]


def test_rows_written_between_pages_neither_repeat_nor_skip_any(admin, branch, ties):
    first = get(admin, limit=5, branch=branch.pk).json()
    before = ProductFactory(name="Aardvark")  # sorts ahead of the first page
    after = ProductFactory(name="Zebra")  # sorts after every page
    for product in (before, after):
        services.receive_stock(actor=admin, branch_id=branch.pk, product_id=product.pk, quantity=1)

    pages = walk(admin, first)

    names = [row["product_name"] for page in pages for row in page["results"]]
    walked = [one for page in pages for one in ids(page)]
    assert len(walked) == len(set(walked)) == 23 + 1  # the 23, Zebra, not Aardvark
    assert names[-1] == "Zebra"
    assert "Aardvark" not in names


def test_an_offset_page_still_answers_and_links_by_cursor(admin, branch, ties):
    params = {"branch": branch.pk, "ordering": "sku", "limit": 5}
    whole = ids(get(admin, branch=branch.pk, ordering="sku", limit=200).json())

    page = get(admin, offset=10, **params).json()
    following = api_client(admin).get(page["next"]).json()
    preceding = api_client(admin).get(page["previous"]).json()

    assert ids(page) == whole[10:15]
    assert ids(following) == whole[15:20]
    assert ids(preceding) == whole[5:10]
    assert "offset" not in page["next"] + page["previous"]
    assert "ordering=sku" in page["next"]
    assert "limit=5" in page["next"]
    # An offset of one page leads back to the first page itself.
    second = get(admin, offset=5, **params).json()
    assert "cursor" not in second["previous"]
    assert "offset" not in second["previous"]


def test_cursor_pages_carry_the_first_pages_count(admin, branch, ties, settings):
    settings.PAGINATION_COUNT_LIMIT = 12

    pages = walk(admin, get(admin, limit=5, branch=branch.pk).json())

    totals = [(page["count"], page["count_is_estimate"]) for page in pages]
    assert totals == [(12, True), (12, True), (15, True), (20, True), (23, False)]


# Refused cursors --------------------------------------------------------------------------


def refused(response) -> None:
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"cursor"}
    assert body["message"] == body["fields"]["cursor"][0]
    assert "first page" in body["message"]


@pytest.mark.parametrize(
    "cursor",
    [
        "x",
        "a.b",
        "a.b.c",
        ".",
        "WyJhIiw1LG51bGwsMCwiSXRlbSAxIl0",
        "é.é",
        "\x00",
        "x" * 5000,
        base64.urlsafe_b64encode(b'["a",5,null,0,"Item 1","not-a-uuid"]').decode() + ".AAAA",
    ],
)
def test_a_malformed_cursor_is_refused(admin, branch, ties, cursor):
    refused(get(admin, branch=branch.pk, cursor=cursor))


def test_a_cursor_edited_by_hand_is_refused(admin, branch, ties):
    link = get(admin, limit=5, branch=branch.pk).json()["next"]
    body, mac = cursor_of(link).split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload[4] = "Item 0"  # another name to start after
    edited = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")

    refused(get(admin, branch=branch.pk, limit=5, cursor=f"{edited}.{mac}"))
    assert get(admin, branch=branch.pk, limit=5, cursor=f"{body}.{mac}").status_code == 200


def test_a_cursor_of_another_order_or_list_is_refused(admin, branch, ties):
    by_name = cursor_of(get(admin, limit=5, branch=branch.pk, ordering="name").json()["next"])
    by_sku = cursor_of(get(admin, limit=5, branch=branch.pk, ordering="sku").json()["next"])
    services.receive_stock(
        actor=admin, branch_id=branch.pk, product_id=ProductFactory().pk, quantity=1
    )
    ledger = cursor_of(get(admin, MOVEMENTS, limit=5).json()["next"])

    refused(get(admin, branch=branch.pk, ordering="sku", cursor=by_name))
    refused(get(admin, branch=branch.pk, ordering="name", cursor=by_sku))
    refused(get(admin, branch=branch.pk, cursor=ledger))
    refused(get(admin, MOVEMENTS, cursor=by_name))


# Cost -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "member"])
@pytest.mark.parametrize("ordering", ["name", "-on_hand", "-updated"])
def test_a_cursor_page_is_one_query_for_3_rows_or_60(
    admin, branch, who, ordering, django_assert_num_queries
):
    from accounts.models import Role
    from accounts.tests.factories import MembershipFactory

    user = admin if who == "admin" else MembershipFactory(branch=branch, role=Role.STAFF).user
    client = api_client(user)
    for size in (3, 60):
        while StockLevel.objects.filter(branch=branch).count() < size + 1:
            services.receive_stock(
                actor=admin, branch_id=branch.pk, product_id=ProductFactory().pk, quantity=1
            )
        first = get(user, branch=branch.pk, ordering=ordering, limit=size).json()
        client.get(first["next"])  # the session and rights are loaded once
        with django_assert_num_queries(1):  # the page, one row past its end
            page = client.get(first["next"]).json()
        assert len(page["results"]) == 1
        with django_assert_num_queries(1):
            back = client.get(page["previous"]).json()
        assert len(back["results"]) == size


def test_a_ledger_cursor_page_is_one_query(admin, branch, django_assert_num_queries):
    for product in ProductFactory.create_batch(4):
        services.receive_stock(
            actor=UserFactory(is_superuser=True),
            branch_id=branch.pk,
            product_id=product.pk,
            quantity=1,
        )
    link = get(admin, MOVEMENTS, limit=2).json()["next"]

    with django_assert_num_queries(1):
        page = api_client(admin).get(link).json()

    assert len(page["results"]) == 2
    assert (page["count"], page["next"]) == (4, None)


# Schema -----------------------------------------------------------------------------------


def test_the_schema_documents_the_cursor_of_the_stock_lists_and_offset_elsewhere(admin):
    schema = api_client(admin).get("/api/schema/?format=json").json()

    def parameters(path: str) -> set[str]:
        return {p["name"] for p in schema["paths"][path]["get"]["parameters"]}

    for path in ("/api/v1/stock-levels/", "/api/v1/movements/"):
        assert {"cursor", "limit"} <= parameters(path)
        assert "offset" not in parameters(path)
    assert {"offset", "limit"} <= parameters("/api/v1/transfers/")
    assert "cursor" not in parameters("/api/v1/transfers/")


def test_other_lists_page_by_offset_as_before(admin):
    BranchFactory.create_batch(3)

    body = api_client(admin).get(reverse("api-branches"), {"limit": 1, "cursor": "x"}).json()

    assert "offset=1" in body["next"]
