"""The stock list page (/stock/) and the row it refreshes live (/stock/rows/<id>/)."""

import html
import re
from datetime import timedelta
from decimal import Decimal

import factory
import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import CategoryFactory, ProductFactory
from inventory_project.tests.helpers import page_client
from stock.models import StockLevel

pytestmark = pytest.mark.django_db

LIST = "/stock/"
HTMX = {"HTTP_HX_REQUEST": "true"}
LOW_TAG = '<span class="tag low">Low</span>'
DASH = "\N{EN DASH}"


class StockLevelFactory(factory.django.DjangoModelFactory):
    """A level holding ``on_hand`` (what the list shows; the ledger is not its concern)."""

    class Meta:
        model = StockLevel

    branch = factory.SubFactory(BranchFactory)
    product = factory.SubFactory(ProductFactory)
    on_hand = Decimal("50")


@pytest.fixture
def other_branch():
    return BranchFactory()


def rows(response) -> list[str]:
    """The SKUs of the list's rows, in order."""
    html = response.content.decode()
    return re.findall(r'<td data-label="SKU" class="code">([^<]+)</td>', html)


def level_ids(response) -> list[str]:
    return re.findall(r'<tr id="level-([0-9a-f-]+)"', response.content.decode())


def get(user, **params):
    return page_client(user).get(LIST, params)


# Seeing the page --------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(LIST)

    assertRedirects(response, f"{reverse('login')}?next={LIST}")


def test_the_url_is_named_and_mounted_under_stock():
    assert reverse("stock-list") == LIST


def test_a_row_shows_the_product_its_stock_and_links_to_the_item_page(staff, branch):
    product = ProductFactory(
        name="Oat milk",
        sku="OAT-1L",
        unit="l",
        low_stock_threshold=Decimal("4"),
        category=CategoryFactory(name="Dairy alternatives"),
    )
    level = StockLevelFactory(branch=branch, product=product, on_hand=Decimal("12.500"))

    response = get(staff, branch=branch.code)

    assert response.status_code == 200
    assertContains(response, f'<a href="{reverse("stock-level", args=[level.pk])}">Oat milk</a>')
    assertContains(response, '<td data-label="SKU" class="code">OAT-1L</td>', html=False)
    assertContains(response, '<td data-label="Category">Dairy alternatives</td>')
    assertContains(response, "<strong>12.5</strong> litres")
    assertContains(response, '<td data-label="Threshold" class="number">4</td>')
    assertContains(response, f'<time datetime="{level.updated_at.isoformat()}"')
    assertNotContains(response, LOW_TAG)
    assertContains(response, '<label for="stock-q">Search</label>')


def test_a_level_below_its_threshold_is_tagged_low_in_words_not_only_colour(staff, branch):
    low = StockLevelFactory(
        branch=branch, product__sku="LOW-1", on_hand=Decimal("3"), low_stock_threshold=5
    )
    StockLevelFactory(branch=branch, product__sku="AT-1", on_hand=Decimal("10"))  # default 10

    response = get(staff, branch=branch.code)

    html = response.content.decode()
    low_row = re.search(rf'<tr id="level-{low.pk}" class="low".*?</tr>', html, re.S)
    assert low_row
    assert LOW_TAG in low_row.group(0)
    assert html.count(LOW_TAG) == 1
    assert html.count('class="low"') == 1


def test_a_branch_lists_only_its_own_levels_without_a_branch_column(manager, branch, other_branch):
    StockLevelFactory(branch=branch, product__sku="HERE-1")
    StockLevelFactory(branch=other_branch, product__sku="THERE-1")

    response = get(manager, branch=branch.code)

    assert rows(response) == ["HERE-1"]
    assertNotContains(response, 'data-label="Branch"')
    assertContains(response, f"Stock at {branch.code}")


def test_someone_of_one_branch_sees_it_without_naming_it(staff, branch, other_branch):
    StockLevelFactory(branch=branch, product__sku="HERE-1")
    StockLevelFactory(branch=other_branch, product__sku="THERE-1")

    response = get(staff)

    assert rows(response) == ["HERE-1"]


def test_all_my_branches_adds_a_branch_column(actor, branch, other_branch):
    StockLevelFactory(branch=branch, product__sku="A-1", product__name="A")
    StockLevelFactory(branch=other_branch, product__sku="B-1", product__name="B")

    response = get(actor, branch="all")

    assert rows(response) == ["A-1", "B-1"]
    assertContains(response, '<th scope="col">Branch</th>', html=False)
    assertContains(response, f'<td data-label="Branch" class="code">{branch.code}</td>')
    assertContains(response, f'<td data-label="Branch" class="code">{other_branch.code}</td>')
    assertContains(response, "Stock in all your branches")
    # The live refresh of a row keeps its branch cell.
    assertContains(response, "?with=branch")


def test_a_manager_of_several_branches_sees_all_of_theirs_and_no_other(
    manager, branch, other_branch
):
    second = BranchFactory()
    MembershipFactory(user=manager, branch=second, role=Role.STAFF)
    StockLevelFactory(branch=branch, product__sku="A-1", product__name="A")
    StockLevelFactory(branch=second, product__sku="B-1", product__name="B")
    StockLevelFactory(branch=other_branch, product__sku="C-1", product__name="C")

    response = get(manager)

    assert rows(response) == ["A-1", "B-1"]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.STAFF])
def test_a_branch_the_user_may_not_view_answers_404_like_a_missing_one(role, other_branch):
    user = MembershipFactory(role=role).user
    StockLevelFactory(branch=other_branch)

    assert get(user, branch=other_branch.code).status_code == 404
    assert get(user, branch="NO-SUCH").status_code == 404
    assert get(user, branch=other_branch.code, **{"q": "x"}).status_code == 404
    assert page_client(user).get(LIST, {"branch": other_branch.code}, **HTMX).status_code == 404


# Searching and filtering ------------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    ["oat", "OAT MILK", "milk", "oat-1", "sku-oat-1l", "4006", "400638"],
)
def test_search_finds_by_part_of_the_name_sku_or_barcode_in_any_case(staff, branch, q):
    StockLevelFactory(
        branch=branch,
        product__name="Oat milk",
        product__sku="SKU-OAT-1L",
        product__barcode="4006381",
    )
    StockLevelFactory(branch=branch, product__name="Rye bread", product__sku="RYE-1")

    assert rows(get(staff, branch=branch.code, q=q)) == ["SKU-OAT-1L"]


def test_no_match_says_so_and_offers_to_clear_the_filters(staff, branch):
    StockLevelFactory(branch=branch)

    response = get(staff, branch=branch.code, q="xyz", low="1")

    assert rows(response) == []
    assertContains(response, "No product matches “xyz” with these filters.")
    assertContains(response, f'href="/stock/?branch={branch.code}">Clear the filters</a>')


def test_an_empty_branch_says_how_stock_arrives(staff, branch):
    response = get(staff, branch=branch.code)

    assertContains(response, f"{branch.code} holds nothing yet.")
    assertContains(response, "once stock is received")
    assertNotContains(response, "Clear the filters")


def test_the_category_filter_and_its_choices(staff, branch):
    dairy, bakery = CategoryFactory(name="Dairy"), CategoryFactory(name="Bakery")
    StockLevelFactory(branch=branch, product__sku="MILK", product__category=dairy)
    StockLevelFactory(branch=branch, product__sku="BREAD", product__category=bakery)

    response = get(staff, branch=branch.code, category=str(dairy.pk))

    assert rows(response) == ["MILK"]
    assertContains(response, f'<option value="{dairy.pk}" selected>Dairy</option>', html=False)
    assertContains(response, f'<option value="{bakery.pk}">Bakery</option>', html=False)


def test_an_unknown_category_is_a_field_error_not_a_crash(staff, branch):
    StockLevelFactory(branch=branch, product__sku="MILK")

    response = get(staff, branch=branch.code, category="not-a-category")

    assert response.status_code == 200
    assertContains(response, "Select a valid choice.")
    assert rows(response) == ["MILK"]


def test_low_only_keeps_the_levels_below_their_threshold(staff, branch):
    StockLevelFactory(branch=branch, product__sku="LOW", on_hand=2)
    StockLevelFactory(branch=branch, product__sku="OWN-LOW", on_hand=20, low_stock_threshold=25)
    StockLevelFactory(branch=branch, product__sku="AT", on_hand=10)  # product default 10

    response = get(staff, branch=branch.code, low="1")

    assert sorted(rows(response)) == ["LOW", "OWN-LOW"]
    assertContains(response, 'name="low" value="1" checked')


def test_the_quantity_range_is_inclusive(staff, branch):
    for sku, on_hand in [("A", "1"), ("B", "5"), ("C", "7.5"), ("D", "10"), ("E", "11")]:
        StockLevelFactory(branch=branch, product__sku=sku, product__name=sku, on_hand=on_hand)

    assert rows(get(staff, branch=branch.code, min="5", max="10")) == ["B", "C", "D"]
    assert rows(get(staff, branch=branch.code, min="7.5")) == ["C", "D", "E"]
    assert rows(get(staff, branch=branch.code, max="1")) == ["A"]


@pytest.mark.parametrize("field", ["min", "max"])
@pytest.mark.parametrize("value", ["abc", "-1", "1e999", "1.0001", "NaN"])
def test_a_bad_quantity_is_a_field_error_beside_it_that_keeps_the_input(
    staff, branch, field, value
):
    StockLevelFactory(branch=branch, product__sku="A", on_hand=3)

    response = get(staff, branch=branch.code, q="", **{field: value})

    assert response.status_code == 200
    html = response.content.decode()
    error = re.search(rf'<p class="error field-error" id="error-{field}"[^>]*>([^<]*)</p>', html)
    assert error
    assert error.group(1).strip()
    assert f'value="{value}"' in html
    assert f'id="stock-{field}"' in html
    assert 'aria-invalid="true"' in html
    # The filter that did not parse is left out; the list still answers.
    assert rows(response) == ["A"]


def test_a_maximum_below_the_minimum_is_a_field_error(staff, branch):
    StockLevelFactory(branch=branch, on_hand=3)

    response = get(staff, branch=branch.code, min="5", max="2")

    assertContains(response, "This is less than the lowest quantity asked for.")


def test_inactive_products_are_left_out_unless_all_are_asked_for(staff, branch):
    StockLevelFactory(branch=branch, product__sku="ON", product__name="A")
    StockLevelFactory(
        branch=branch, product__sku="OFF", product__name="B", product__is_active=False
    )

    assert rows(get(staff, branch=branch.code)) == ["ON"]
    response = get(staff, branch=branch.code, active="all")
    assert rows(response) == ["ON", "OFF"]
    assertContains(response, '<span class="tag">inactive</span>', count=1)
    assertContains(response, '<option value="all" selected>', html=False)


@pytest.fixture
def sixty(branch):
    products = ProductFactory.create_batch(60)
    return StockLevelFactory.create_batch(60, branch=branch, product=factory.Iterator(products))


@pytest.fixture
def sort_ties(branch):
    """120 levels, three pages, whose on hand, names and times of change repeat."""
    now = timezone.now()
    products = [
        ProductFactory(name=f"Item {n % 7}", sku=f"T-{n:03}", is_active=n % 11 != 0)
        for n in range(120)
    ]
    levels = StockLevelFactory.create_batch(
        120, branch=branch, product=factory.Iterator(products), on_hand=factory.Iterator([1, 2, 3])
    )
    for n, level in enumerate(levels):
        StockLevel.objects.filter(pk=level.pk).update(updated_at=now - timedelta(minutes=n % 5))
    return levels


# Sorting ----------------------------------------------------------------------------------


@pytest.fixture
def three(branch):
    now = timezone.now()
    made = {}
    for sku, name, on_hand, age in [
        ("S-2", "Banana", 5, 3),
        ("S-3", "Apple", 9, 1),
        ("S-1", "Cherry", 1, 2),
    ]:
        made[sku] = StockLevelFactory(
            branch=branch, product__sku=sku, product__name=name, on_hand=on_hand
        )
        StockLevel.objects.filter(pk=made[sku].pk).update(updated_at=now - timedelta(hours=age))
    return made


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["S-3", "S-2", "S-1"]),
        ("-name", ["S-1", "S-2", "S-3"]),
        ("sku", ["S-1", "S-2", "S-3"]),
        ("on_hand", ["S-1", "S-2", "S-3"]),
        ("-on_hand", ["S-3", "S-2", "S-1"]),
        ("updated", ["S-2", "S-1", "S-3"]),
        ("-updated", ["S-3", "S-1", "S-2"]),
    ],
)
def test_sorting(staff, branch, three, sort, expected):
    assert rows(get(staff, branch=branch.code, sort=sort)) == expected


@pytest.mark.parametrize("sort", ["", "price", "-", "product__cost_price", "name;drop"])
def test_an_unknown_sort_falls_back_to_the_name(staff, branch, three, sort):
    response = get(staff, branch=branch.code, sort=sort)

    assert response.status_code == 200
    assert rows(response) == ["S-3", "S-2", "S-1"]


def test_the_sorted_column_says_so_and_its_link_reverses_it(staff, branch, three):
    response = get(staff, branch=branch.code, sort="-on_hand", q="", page="1")

    html = response.content.decode()
    assert re.findall(r'<th scope="col"[^>]*aria-sort="(\w+)"', html) == ["descending"]
    assert f'href="?branch={branch.code}&amp;sort=on_hand" hx-get' in html
    # Other columns start ascending, except the time of the last change: newest first.
    assert f'href="?branch={branch.code}&amp;sort=-updated" hx-get' in html
    assert f'href="?branch={branch.code}" hx-get' in html  # name ascending is the default


def test_sort_links_keep_the_filters_and_go_back_to_the_first_page(staff, branch, sixty):
    response = get(staff, branch=branch.code, q="product", min="1", page="2")

    assert len(rows(response)) == 10
    assertContains(response, f'href="?branch={branch.code}&amp;q=product&amp;min=1&amp;sort=sku"')


# Pages ------------------------------------------------------------------------------------


def link(response, name: str) -> str | None:
    """Where the list's Next or Previous link leads (its href), or None without one."""
    found = re.search(rf'<a id="stock-{name}" rel="\w+" href="([^"]+)"', response.content.decode())
    return html.unescape(found.group(1)) if found else None


def follow(user, href: str, **headers):
    return page_client(user).get(LIST + href, **headers)


def test_fifty_rows_a_page_and_next_previous_links(staff, branch, sixty):
    first = get(staff, branch=branch.code)
    second = follow(staff, link(first, "next"))

    assert len(rows(first)) == 50
    assert len(rows(second)) == 10
    assert set(rows(first)).isdisjoint(rows(second))
    assert link(first, "next").startswith(f"?branch={branch.code}&cursor=")
    assertNotContains(first, "Previous")
    assertContains(second, "Page 2")
    assertContains(second, f"51{DASH}60 of 60 levels")
    assert rows(follow(staff, link(second, "previous"))) == rows(first)
    assertNotContains(second, "Next")


def test_an_old_page_number_address_still_answers_its_page(staff, branch, sixty):
    first = get(staff, branch=branch.code)
    second = get(staff, branch=branch.code, page="2")

    assert rows(second) == rows(follow(staff, link(first, "next")))
    assertContains(second, "Page 2")
    # Its previous page is the first, whose address has no cursor.
    assert link(second, "previous") == f"?branch={branch.code}"


def test_next_and_previous_walk_every_row_once_in_each_sort(staff, branch, sort_ties):
    for sort in ("name", "-name", "sku", "on_hand", "-on_hand", "updated", "-updated"):
        expected = rows(get(staff, branch=branch.code, sort=sort, active="all", page="1"))
        expected += rows(get(staff, branch=branch.code, sort=sort, active="all", page="2"))
        expected += rows(get(staff, branch=branch.code, sort=sort, active="all", page="3"))
        pages = [get(staff, branch=branch.code, sort=sort, active="all")]
        while link(pages[-1], "next"):
            pages.append(follow(staff, link(pages[-1], "next")))
        walked = [sku for page in pages for sku in rows(page)]
        assert walked == expected, sort
        assert len(set(walked)) == len(walked) == 120
        back = [pages[-1]]
        while link(back[-1], "previous"):
            back.append(follow(staff, link(back[-1], "previous")))
        assert [rows(page) for page in back] == [rows(page) for page in reversed(pages)], sort


def test_the_page_links_keep_the_filters_and_the_sort(staff, branch, sixty):
    first = get(staff, branch=branch.code, q="product", sort="-on_hand", page="1")

    href = link(first, "next")
    assert href.startswith(f"?branch={branch.code}&q=product&sort=-on_hand&cursor=")
    partial = follow(staff, href, **HTMX)
    # The address pushed is the link's own, so reload and back show this very page.
    assert partial["HX-Push-Url"] == "/stock/" + href


@pytest.mark.parametrize("cursor", ["nonsense", "WyJhIiw1MF0.AAAA", "a.b.c", "\u00e9", "x" * 5000])
def test_a_cursor_that_is_not_the_lists_means_the_first_page(staff, branch, sixty, cursor):
    response = get(staff, branch=branch.code, cursor=cursor)

    assert response.status_code == 200
    assert rows(response) == rows(get(staff, branch=branch.code))


def test_a_cursor_of_another_sort_means_the_first_page(staff, branch, sixty):
    by_name = link(get(staff, branch=branch.code), "next")
    cursor = QueryDict(by_name[1:])["cursor"]

    response = get(staff, branch=branch.code, sort="sku", cursor=cursor)

    assert rows(response) == rows(get(staff, branch=branch.code, sort="sku"))


def test_a_cursor_past_the_end_says_so(staff, branch, sixty):
    second = follow(staff, link(get(staff, branch=branch.code), "next"))
    StockLevel.objects.filter(pk__in=[level.pk for level in sixty[-20:]]).delete()
    href = link(follow(staff, link(second, "previous")), "next")

    gone = follow(staff, href)

    assert rows(gone) == []
    assertContains(gone, "is past the end of this list.")
    assertContains(gone, "Go to the first page")


def test_a_page_past_the_end_says_so_and_links_back_to_the_first(staff, branch, sixty):
    response = get(staff, branch=branch.code, page="9")

    assert rows(response) == []
    assertContains(response, "Page 9 is past the end of this list.")
    assertContains(response, "Go to the first page")


@pytest.mark.parametrize("page", ["abc", "0", "-3", "1.5", "²"])
def test_a_malformed_page_means_the_first(staff, branch, sixty, page):
    response = get(staff, branch=branch.code, page=page)

    assert response.status_code == 200
    assert len(rows(response)) == 50


def test_the_total_is_shown_where_it_is_free_and_counted_only_on_demand(staff, branch, sixty):
    first = get(staff, branch=branch.code)
    last = get(staff, branch=branch.code, page="2")
    counted = get(staff, branch=branch.code, count="1")
    one_page = get(staff, branch=branch.code, q=sixty[0].product.sku)

    assertContains(first, f"1{DASH}50, more on the next pages")
    assertContains(first, f'href="?branch={branch.code}&amp;count=1"')
    assertContains(last, f"51{DASH}60 of 60 levels")
    assertContains(counted, f"1{DASH}50 of 60 levels")
    assertContains(one_page, f"1{DASH}1 of 1 level")


# HTMX -------------------------------------------------------------------------------------


def test_an_htmx_request_gets_the_results_only_and_a_tidy_address_to_push(staff, branch):
    StockLevelFactory(branch=branch, product__sku="A", product__name="Apple")

    response = page_client(staff).get(
        LIST,
        {"branch": branch.code, "q": "app", "category": "", "min": "", "max": "", "active": ""},
        **HTMX,
    )

    html = response.content.decode()
    assert html.startswith('<section id="stock-results"')
    assert "<html" not in html
    assert 'id="stock-filters"' not in html
    assert rows(response) == ["A"]
    assert response["HX-Push-Url"] == f"/stock/?branch={branch.code}&q=app"
    # The fields' error slots are refreshed out of band (emptied here).
    assert '<p class="error field-error" id="error-min" hx-swap-oob="true"' in html


def test_an_htmx_request_with_a_bad_quantity_sends_the_error_beside_the_field(staff, branch):
    response = page_client(staff).get(LIST, {"branch": branch.code, "max": "lots"}, **HTMX)

    html = response.content.decode()
    assert re.search(
        r'<p class="error field-error" id="error-max" hx-swap-oob="true"[^>]*>Enter a number\.</p>',
        html,
    )
    assert response["HX-Push-Url"] == f"/stock/?branch={branch.code}&max=lots"


def test_a_history_restore_gets_the_full_page(staff, branch):
    StockLevelFactory(branch=branch, product__sku="A")

    response = page_client(staff).get(
        LIST, {"branch": branch.code, "q": "a"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX
    )

    assertContains(response, "<html")
    assertContains(response, 'id="stock-filters"')
    assertContains(response, 'value="a"')
    assert "HX-Push-Url" not in response


def test_the_filter_form_works_without_javascript_and_swaps_with_it(staff, branch):
    response = get(staff, branch=branch.code, sort="-on_hand")

    html = response.content.decode()
    form = re.search(r'<form id="stock-filters"[^>]*>', html).group(0)
    assert 'method="get"' in form
    assert 'action="/stock/"' in form
    assert 'hx-target="#stock-results"' in form
    assert 'hx-push-url="true"' in form
    assert '<button type="submit"' in html
    assert f'<input type="hidden" name="branch" value="{branch.code}">' in html
    # The sort travels with the form, from the results it belongs to.
    assert '<input type="hidden" name="sort" value="-on_hand" form="stock-filters">' in html
    assert 'hx-trigger="input changed delay:300ms, search"' in html


# The live row -----------------------------------------------------------------------------


def test_each_row_refreshes_itself_when_its_level_changes(staff, branch):
    level = StockLevelFactory(branch=branch)

    response = get(staff, branch=branch.code)

    row = re.search(rf'<tr id="level-{level.pk}"[^>]*>', response.content.decode()).group(0)
    assert "flash" not in row
    assert 'data-live-on="stock.changed stock.threshold_changed alert.raised alert.resolved"' in row
    assert f'data-live-level="{level.pk}"' in row
    assert f'hx-get="{reverse("stock-row", args=[level.pk])}"' in row
    assert 'hx-trigger="live:refresh"' in row
    assert 'hx-swap="outerHTML"' in row


def test_the_row_partial_answers_the_level_as_it_is_now(staff, branch):
    level = StockLevelFactory(branch=branch, on_hand=20)
    StockLevelFactory(branch=branch)
    StockLevel.objects.filter(pk=level.pk).update(on_hand=Decimal("4"))

    response = page_client(staff).get(reverse("stock-row", args=[level.pk]), **HTMX)

    html = response.content.decode()
    # Low, and highlighted as it arrives in place of the old one.
    assert html.startswith(f'<tr id="level-{level.pk}" class="low flash"')
    assert level_ids(response) == [str(level.pk)]
    assert "<strong>4</strong>" in html
    assert LOW_TAG in html
    assert 'data-label="Branch"' not in html


def test_the_row_partial_keeps_the_branch_cell_of_the_all_branches_list(actor, branch):
    level = StockLevelFactory(branch=branch)

    response = page_client(actor).get(reverse("stock-row", args=[level.pk]) + "?with=branch")

    assertContains(response, f'<td data-label="Branch" class="code">{branch.code}</td>')
    assertContains(response, "?with=branch")
    assertNotContains(response, "flash")  # only a live refresh (HTMX) highlights it


@pytest.mark.parametrize("role", [Role.MANAGER, Role.STAFF])
def test_the_row_of_another_branch_answers_404(role, branch, other_branch):
    user = MembershipFactory(branch=branch, role=role).user
    theirs = StockLevelFactory(branch=other_branch)
    ours = StockLevelFactory(branch=branch)

    client = page_client(user)
    assert client.get(reverse("stock-row", args=[theirs.pk]), **HTMX).status_code == 404
    assert client.get(reverse("stock-row", args=[ours.pk]), **HTMX).status_code == 200


def test_the_row_of_a_missing_level_answers_404(actor):
    response = page_client(actor).get("/stock/rows/00000000-0000-0000-0000-000000000000/")

    assert response.status_code == 404


# Speed ------------------------------------------------------------------------------------


def queries(user, params: dict, **headers) -> list[str]:
    client = page_client(user)
    client.get(LIST, params, **headers)  # the session is loaded once
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST, params, **headers)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def counts_levels(sql: str) -> bool:
    return "COUNT(" in sql.upper() and "stock_stocklevel" in sql


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "partial"])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "product", "low": "1", "min": "0", "max": "100", "sort": "-on_hand"},
        {"category": "placeholder", "active": "all", "page": "2", "sort": "-updated"},
    ],
    ids=["plain", "filtered", "second-page"],
)
@pytest.mark.parametrize("who", ["manager", "admin-all"])
def test_a_page_takes_the_same_queries_for_5_and_60_levels_and_counts_nothing(
    branch, actor, manager, other_branch, headers, params, who
):
    user = manager if who == "manager" else actor
    category = CategoryFactory()
    params = {**params, "branch": branch.code if who == "manager" else "all"}
    if params.get("category"):
        params["category"] = str(category.pk)

    def make(n: int) -> None:
        for target in (branch, other_branch):
            products = ProductFactory.create_batch(n, category=category)
            StockLevelFactory.create_batch(
                n,
                branch=target,
                product=factory.Iterator(products),
                on_hand=factory.Iterator([1, 50]),
            )

    make(5)
    small = queries(user, params, **headers)
    make(55)
    large = queries(user, params, **headers)

    assert len(small) == len(large), "\n".join(large)
    assert not any(counts_levels(sql) for sql in large)


def test_counting_on_demand_costs_one_query_more(branch, manager):
    StockLevelFactory.create_batch(60, branch=branch)
    params = {"branch": branch.code}

    plain = queries(manager, params)
    counted = queries(manager, {**params, "count": "1"})

    assert len(counted) == len(plain) + 1
    assert sum(counts_levels(sql) for sql in counted) == 1


def test_the_row_partial_takes_a_few_queries(branch, staff):
    level = StockLevelFactory(branch=branch)
    client = page_client(staff)
    url = reverse("stock-row", args=[level.pk])
    client.get(url)

    with CaptureQueriesContext(connection) as captured:
        client.get(url, **HTMX)

    # The session, the user and the level with its product and category.
    assert len(captured) <= 4
