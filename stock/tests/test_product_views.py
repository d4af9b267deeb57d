"""The catalog pages: products with what the reader's branches hold, one product's levels,
and ADMINs adding and changing products and categories."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.models import Category, Product, Unit
from catalog.tests.factories import CategoryFactory, ProductFactory
from inventory_project.tests.helpers import page_client
from stock import services
from stock.models import StockLevel

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def receive(actor, branch, product, quantity) -> StockLevel:
    services.receive_stock(
        actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity
    )
    return StockLevel.objects.get(branch=branch, product=product)


def products_page(**params) -> str:
    url = reverse("products")
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def row_of(response, product: Product) -> str:
    """The list's row of ``product``, as text."""
    html = response.content.decode()
    start = html.index(reverse("product", args=[product.pk]))
    return html[start : html.index("</tr>", start)]


def product_form(**overrides) -> dict:
    data = {
        "once": "k-" + overrides.pop("once", "1"),
        "sku": "OAT-1L",
        "name": "Oat milk",
        "barcode": "4006381333931",
        "category": "",
        "unit": Unit.PIECE,
        "low_stock_threshold": "5",
        "cost_price": "0.80",
        "sale_price": "1.49",
        "is_active": "on",
    }
    data.update(overrides)
    return data


# The list ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("products"))

    assertRedirects(response, f"{reverse('login')}?next={reverse('products')}")


def test_the_list_shows_each_products_columns_and_links_to_its_page(staff):
    product = ProductFactory(
        name="Oat milk",
        sku="OAT-1L",
        barcode="4006381333931",
        category=CategoryFactory(name="Dairy alternatives"),
        unit=Unit.LITRE,
        low_stock_threshold=Decimal("7.5"),
    )

    response = page_client(staff).get(reverse("products"))

    assert response.status_code == 200
    row = row_of(response, product)
    for text in ("Oat milk", "OAT-1L", "4006381333931", "Dairy alternatives", "litres", "7.5"):
        assert text in row


def test_on_hand_is_the_total_of_the_branches_the_reader_may_view(actor, staff, branch):
    product = ProductFactory()
    receive(actor, branch, product, 12)
    receive(actor, BranchFactory(), product, 30)  # not the staff member's branch
    other = BranchFactory()
    MembershipFactory(user=staff, branch=other, role=Role.STAFF)
    receive(actor, other, product, 5)

    staff_row = row_of(page_client(staff).get(reverse("products")), product)
    admin_row = row_of(page_client(actor).get(reverse("products")), product)
    chosen_row = row_of(page_client(staff).get(products_page(branch=branch.code)), product)

    assert "<strong>17</strong>" in staff_row
    assert "<strong>47</strong>" in admin_row
    assert "<strong>12</strong>" in chosen_row


def test_a_product_no_branch_holds_shows_zero(staff):
    product = ProductFactory()

    row = row_of(page_client(staff).get(reverse("products")), product)

    assert "<strong>0</strong>" in row


@pytest.mark.parametrize(
    "q", ["oat", "OAT-1", "40063813", "MILK"], ids=["name", "sku", "barcode", "case"]
)
def test_search_finds_by_name_sku_or_barcode(staff, q):
    wanted = ProductFactory(name="Oat milk", sku="OAT-1L", barcode="4006381333931")
    other = ProductFactory(name="Rye bread", sku="RYE-500", barcode="5000000000001")

    response = page_client(staff).get(products_page(q=q))

    assertContains(response, reverse("product", args=[wanted.pk]))
    assertNotContains(response, reverse("product", args=[other.pk]))


def test_an_htmx_search_answers_the_results_alone(staff):
    ProductFactory(name="Oat milk")

    response = page_client(staff).get(products_page(q="oat"), **HTMX)

    assertContains(response, 'id="product-results"')
    assertContains(response, "Oat milk")
    assertNotContains(response, "<html")


def test_filters_by_category_and_status(staff):
    dairy = CategoryFactory(name="Dairy")
    active = ProductFactory(category=dairy)
    inactive = ProductFactory(category=dairy, is_active=False)
    elsewhere = ProductFactory()
    client = page_client(staff)

    default = client.get(products_page(category=dairy.pk))
    only_inactive = client.get(products_page(category=dairy.pk, active="inactive"))
    everything = client.get(products_page(active="all"))

    assertContains(default, reverse("product", args=[active.pk]))
    assertNotContains(default, reverse("product", args=[inactive.pk]))
    assertNotContains(default, reverse("product", args=[elsewhere.pk]))
    assertContains(only_inactive, reverse("product", args=[inactive.pk]))
    assertNotContains(only_inactive, reverse("product", args=[active.pk]))
    for product in (active, inactive, elsewhere):
        assertContains(everything, reverse("product", args=[product.pk]))


def test_a_malformed_filter_is_said_beside_its_field_not_a_crash(staff):
    ProductFactory(name="Oat milk")

    response = page_client(staff).get(products_page(category="nonsense", page="x"))

    assert response.status_code == 200
    assertContains(response, "Select a valid choice")
    assertContains(response, "Oat milk")


def test_pages_follow_one_another_without_counting(staff, monkeypatch):
    monkeypatch.setattr("stock.views.products.PRODUCTS_PER_PAGE", 2)
    products = [ProductFactory(name=f"Item {n:02d}") for n in range(5)]
    client = page_client(staff)

    with CaptureQueriesContext(connection) as queries:
        first = client.get(reverse("products"))
    third = client.get(products_page(page=3))
    beyond = client.get(products_page(page=9))

    assertContains(first, "Item 00")
    assertContains(first, "Item 01")
    assertNotContains(first, "Item 02")
    assertContains(first, 'rel="next"')
    assertNotContains(first, 'rel="prev"')
    assertContains(third, reverse("product", args=[products[4].pk]))
    assertNotContains(third, 'rel="next"')
    assertContains(third, 'rel="prev"')
    assertContains(beyond, "No product matches")
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)


def test_an_empty_catalog_says_so(staff):
    response = page_client(staff).get(reverse("products"))

    assertContains(response, "No products yet.")


def test_only_admins_are_offered_to_add_products(actor, manager, staff):
    new = reverse("product-new")

    assertContains(page_client(actor).get(reverse("products")), new)
    assertNotContains(page_client(manager).get(reverse("products")), new)
    assertNotContains(page_client(staff).get(reverse("products")), new)


def _count_list_queries(client, url, **extra) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **extra).status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", ["admin", "staff"])
def test_the_list_costs_the_same_queries_for_few_and_many_products(actor, staff, branch, role):
    reader = actor if role == "admin" else staff
    client = page_client(reader)
    for _ in range(2):
        receive(actor, branch, ProductFactory(), 3)
    few = _count_list_queries(client, reverse("products"))
    few_partial = _count_list_queries(client, products_page(q="SKU"), **HTMX)

    for _ in range(20):
        receive(actor, branch, ProductFactory(category=CategoryFactory()), 3)
    many = _count_list_queries(client, reverse("products"))
    many_partial = _count_list_queries(client, products_page(q="SKU"), **HTMX)

    assert many == few
    assert many_partial == few_partial


# One product ------------------------------------------------------------------------------


def test_the_product_page_shows_its_level_at_each_branch_the_reader_may_view(actor, staff, branch):
    product = ProductFactory(name="Oat milk", low_stock_threshold=Decimal("10"))
    level = receive(actor, branch, product, 3)
    hidden = BranchFactory(code="HID-01")
    hidden_level = receive(actor, hidden, product, 99)

    response = page_client(staff).get(reverse("product", args=[product.pk]))

    assert response.status_code == 200
    assertContains(response, "Oat milk")
    assertContains(response, branch.code)
    assertContains(response, reverse("stock-level", args=[level.pk]))
    assertContains(response, '<span class="tag low">low</span>', html=True)
    assertContains(response, 'data-live-on="stock.changed product.changed"')
    assertNotContains(response, "HID-01")
    # Not "99": a random id or barcode on the page may hold those digits.
    assertNotContains(response, reverse("stock-level", args=[hidden_level.pk]))


def test_a_branch_that_never_held_the_product_says_so(actor, branch):
    product = ProductFactory()

    response = page_client(actor).get(reverse("product", args=[product.pk]))

    assertContains(response, branch.code)
    assertContains(response, "never held")


def test_the_live_refresh_answers_the_partial(actor, staff, branch):
    product = ProductFactory(name="Oat milk")
    receive(actor, branch, product, 4)

    response = page_client(staff).get(reverse("product", args=[product.pk]), **HTMX)

    assertContains(response, 'id="product-live"')
    assertNotContains(response, "<html")


def test_an_unknown_product_is_not_found(staff):
    response = page_client(staff).get(
        reverse("product", args=["00000000-0000-0000-0000-000000000000"])
    )

    assert response.status_code == 404


def test_only_admins_see_the_edit_button(actor, staff, manager, product):
    edit = reverse("product-edit", args=[product.pk])
    url = reverse("product", args=[product.pk])

    assertContains(page_client(actor).get(url), edit)
    assertNotContains(page_client(manager).get(url), edit)
    assertNotContains(page_client(staff).get(url), edit)


def test_the_product_page_costs_the_same_queries_for_few_and_many_branches(actor):
    product = ProductFactory()
    client = page_client(actor)
    receive(actor, BranchFactory(), product, 1)
    few = _count_list_queries(client, reverse("product", args=[product.pk]))

    for _ in range(8):
        receive(actor, BranchFactory(), product, 2)
    many = _count_list_queries(client, reverse("product", args=[product.pk]))

    assert many == few


# Adding and changing products ---------------------------------------------------------------


def test_an_admin_adds_a_product(actor):
    category = CategoryFactory(name="Dairy")

    response = page_client(actor).post(
        reverse("product-new"), product_form(category=str(category.pk))
    )

    product = Product.objects.get(sku="OAT-1L")
    assertRedirects(response, reverse("product", args=[product.pk]))
    assert product.name == "Oat milk"
    assert product.category == category
    assert product.low_stock_threshold == Decimal("5")


def test_the_same_add_form_sent_twice_adds_one_product(actor):
    client = page_client(actor)

    first = client.post(reverse("product-new"), product_form(once="same"))
    second = client.post(reverse("product-new"), product_form(once="same"))

    assert first.status_code == second.status_code == 302
    assert Product.objects.filter(sku="OAT-1L").count() == 1


def test_a_used_sku_is_said_beside_the_field_keeping_what_was_typed(actor):
    ProductFactory(sku="OAT-1L")

    response = page_client(actor).post(
        reverse("product-new"), product_form(sku="oat-1l", name="Typed name")
    )

    assert response.status_code == 400
    assertContains(response, "A product with the SKU oat-1l already exists.", status_code=400)
    assertContains(response, 'value="Typed name"', status_code=400)
    assertContains(response, 'id="id_sku_error"', status_code=400)
    assert Product.objects.count() == 1


def test_a_field_the_form_refuses_keeps_the_input(actor):
    response = page_client(actor).post(
        reverse("product-new"), product_form(low_stock_threshold="-1", name="Kept")
    )

    assert response.status_code == 400
    assertContains(response, 'value="Kept"', status_code=400)
    assert not Product.objects.exists()


def test_an_admin_changes_a_product(actor, product):
    data = product_form(sku=product.sku, name="Renamed", barcode="")

    response = page_client(actor).post(reverse("product-edit", args=[product.pk]), data)

    assertRedirects(response, reverse("product", args=[product.pk]))
    product.refresh_from_db()
    assert product.name == "Renamed"
    assert product.barcode is None


def test_the_edit_form_starts_with_the_products_values(actor):
    product = ProductFactory(name="Oat milk", sku="OAT-1L", low_stock_threshold=Decimal("4"))

    response = page_client(actor).get(reverse("product-edit", args=[product.pk]))

    assertContains(response, 'value="Oat milk"')
    assertContains(response, 'value="OAT-1L"')
    assertContains(response, 'value="4"')


def test_a_unit_change_of_a_product_with_stock_history_is_refused_beside_the_unit(
    actor, branch, product
):
    receive(actor, branch, product, 2)
    data = product_form(sku=product.sku, name="Typed", unit=Unit.KILOGRAM)

    response = page_client(actor).post(reverse("product-edit", args=[product.pk]), data)

    assert response.status_code == 409
    assertContains(response, "its unit cannot change", status_code=409)
    assertContains(response, 'id="id_unit_error"', status_code=409)
    assertContains(response, 'value="Typed"', status_code=409)
    product.refresh_from_db()
    assert product.unit == Unit.PIECE


@pytest.mark.parametrize("role", [Role.MANAGER, Role.STAFF])
def test_others_than_admins_are_refused_the_product_forms_in_words(branch, product, role):
    client = page_client(MembershipFactory(branch=branch, role=role).user)

    new_page = client.get(reverse("product-new"))
    forged_new = client.post(reverse("product-new"), product_form())
    forged_edit = client.post(
        reverse("product-edit", args=[product.pk]), product_form(sku=product.sku, name="Forged")
    )
    forged_empty = client.post(reverse("product-edit", args=[product.pk]), {})

    assert new_page.status_code == 403
    assertContains(new_page, "Only an administrator can add products.", status_code=403)
    assertContains(forged_new, "Only an administrator can add products.", status_code=403)
    assertContains(forged_edit, "Only an administrator can change products.", status_code=403)
    assertContains(forged_empty, "Only an administrator can change products.", status_code=403)
    assert not Product.objects.filter(sku="OAT-1L").exists()
    product.refresh_from_db()
    assert product.name != "Forged"


# Categories -------------------------------------------------------------------------------


def test_the_categories_page_lists_them_with_their_product_counts(staff):
    dairy = CategoryFactory(name="Dairy")
    ProductFactory.create_batch(3, category=dairy)

    response = page_client(staff).get(reverse("categories"))

    assertContains(response, "Dairy")
    assertContains(response, '<td data-label="Products" class="number">3</td>', html=True)
    assertNotContains(response, reverse("category-edit", args=[dairy.pk]))
    assertNotContains(response, "Add a category")


def test_an_admin_adds_and_renames_a_category(actor):
    client = page_client(actor)

    added = client.post(reverse("categories"), {"once": "c1", "name": "Bakery"})
    category = Category.objects.get(name="Bakery")
    renamed = client.post(
        reverse("category-edit", args=[category.pk]),
        {"once": "c2", "name": "Bread", "description": "Baked daily"},
    )

    assertRedirects(added, reverse("categories"))
    assertRedirects(renamed, reverse("categories"))
    category.refresh_from_db()
    assert (category.name, category.description) == ("Bread", "Baked daily")


def test_a_taken_category_name_is_said_beside_the_field(actor):
    CategoryFactory(name="Bakery")

    response = page_client(actor).post(reverse("categories"), {"once": "c1", "name": "BAKERY"})

    assert response.status_code == 400
    assertContains(response, "A category named BAKERY already exists.", status_code=400)
    assertContains(response, 'value="BAKERY"', status_code=400)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.STAFF])
def test_others_than_admins_cannot_add_or_change_categories(branch, role):
    category = CategoryFactory(name="Bakery")
    client = page_client(MembershipFactory(branch=branch, role=role).user)

    forged = client.post(reverse("categories"), {"once": "c1", "name": "Forged"})
    edit_page = client.get(reverse("category-edit", args=[category.pk]))
    forged_edit = client.post(
        reverse("category-edit", args=[category.pk]), {"once": "c2", "name": "Forged"}
    )

    assertContains(forged, "Only an administrator can add categories.", status_code=403)
    assertContains(edit_page, "Only an administrator can change categories.", status_code=403)
    assertContains(forged_edit, "Only an administrator can change categories.", status_code=403)
    assert list(Category.objects.values_list("name", flat=True)) == ["Bakery"]


def test_a_reader_of_another_branch_sees_no_stock_of_ours(actor, branch, product):
    receive(actor, branch, product, 40)
    outsider = MembershipFactory(branch=BranchFactory(), role=Role.MANAGER).user

    listing = page_client(outsider).get(reverse("products"))
    detail = page_client(outsider).get(reverse("product", args=[product.pk]))
    chosen = page_client(outsider).get(products_page(branch=branch.code))

    assert "<strong>0</strong>" in row_of(listing, product)
    assertNotContains(detail, branch.code)
    assert chosen.status_code == 404


def test_admin_add_page_works_as_a_partial(actor):
    response = page_client(actor).get(reverse("product-new"), **HTMX)

    assert response.status_code == 200
    assertContains(response, 'name="once"')


def test_the_add_form_offers_every_unit(actor):
    response = page_client(actor).get(reverse("product-new"))

    for unit in Unit:
        assertContains(response, f'value="{unit.value}"')
