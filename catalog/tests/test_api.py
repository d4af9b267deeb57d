"""The catalog API: everyone signed in reads categories and products; ADMINs change them."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.models import Category, Product, Unit
from catalog.tests.factories import CategoryFactory, ProductFactory
from inventory_project.tests.helpers import api_client
from stock.services import receive_stock

pytestmark = pytest.mark.django_db


def product_url(product_id) -> str:
    return reverse("api-product", args=[product_id])


def category_url(category_id) -> str:
    return reverse("api-category", args=[category_id])


def skus(response) -> list[str]:
    return [product["sku"] for product in response.json()["results"]]


@pytest.fixture
def admin():
    return AdminFactory()


@pytest.fixture(params=[Role.MANAGER, Role.STAFF])
def member(request):
    """Someone with a role at a branch, who reads the catalog but does not change it."""
    return MembershipFactory(role=request.param).user


@pytest.fixture
def staff():
    return MembershipFactory(role=Role.STAFF).user


# Reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        reverse("api-products"),
        reverse("api-categories"),
        reverse("api-product-lookup") + "?sku=X",
        reverse("api-product", args=[uuid.uuid4()]),
        reverse("api-category", args=[uuid.uuid4()]),
    ],
    ids=["products", "categories", "lookup", "product", "category"],
)
def test_anonymous_callers_are_refused(url):
    response = api_client().get(url)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_every_role_reads_every_product(member):
    ProductFactory(sku="A-1")
    ProductFactory(sku="B-1", is_active=False)

    response = api_client(member).get(reverse("api-products"))

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert sorted(skus(response)) == ["A-1", "B-1"]


def test_products_are_described_in_full_with_decimals_as_strings(staff):
    category = CategoryFactory(name="Dairy")
    product = ProductFactory(
        sku="MILK-1",
        barcode="4006381333931",
        name="Milk",
        category=category,
        unit=Unit.LITRE,
        low_stock_threshold="2.5",
    )

    body = api_client(staff).get(reverse("api-products")).json()["results"][0]

    assert body == {
        "id": str(product.pk),
        "sku": "MILK-1",
        "barcode": "4006381333931",
        "name": "Milk",
        "category": str(category.pk),
        "category_name": "Dairy",
        "unit": "l",
        "cost_price": "1.00",
        "sale_price": "1.60",
        "low_stock_threshold": "2.500",
        "is_active": True,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }


def test_a_product_without_category_has_none(staff):
    ProductFactory(category=None)

    body = api_client(staff).get(reverse("api-products")).json()["results"][0]

    assert (body["category"], body["category_name"]) == (None, None)


def test_products_are_filtered_by_category(staff):
    dairy = CategoryFactory()
    ProductFactory(sku="MILK-1", category=dairy)
    ProductFactory(sku="BREAD-1")

    response = api_client(staff).get(reverse("api-products"), {"category": str(dairy.pk)})

    assert skus(response) == ["MILK-1"]


def test_a_malformed_category_filter_is_refused_in_the_error_shape(staff):
    response = api_client(staff).get(reverse("api-products"), {"category": "dairy"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["category"]


def test_products_are_filtered_by_state(staff):
    ProductFactory(sku="MILK-1")
    ProductFactory(sku="OLD-1", is_active=False)

    client = api_client(staff)

    assert skus(client.get(reverse("api-products"), {"is_active": "false"})) == ["OLD-1"]
    assert skus(client.get(reverse("api-products"), {"is_active": "true"})) == ["MILK-1"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [("milk", ["MILK-1"]), ("sku-b", ["SKU-B"]), ("abc", ["SKU-B"]), ("OAT", ["OAT-1"])],
    ids=["name", "sku", "barcode", "any case"],
)
def test_products_are_searched_by_name_sku_or_barcode(staff, q, expected):
    ProductFactory(sku="MILK-1", name="Whole milk")
    ProductFactory(sku="SKU-B", name="Bread", barcode="XABCX")
    ProductFactory(sku="OAT-1", name="Oats")

    response = api_client(staff).get(reverse("api-products"), {"q": q})

    assert skus(response) == expected


def test_products_are_ordered_by_name_unless_asked_otherwise(staff):
    ProductFactory(sku="A-2", name="Zucchini")
    ProductFactory(sku="B-1", name="Apples")
    ProductFactory(sku="C-3", name="Milk")
    Product.objects.filter(sku="C-3").update(updated_at=timezone.now() - timedelta(days=1))
    client = api_client(staff)

    def ordered(ordering=None):
        return skus(client.get(reverse("api-products"), {"ordering": ordering} if ordering else {}))

    assert ordered() == ["B-1", "C-3", "A-2"]
    assert ordered("name") == ["B-1", "C-3", "A-2"]
    assert ordered("-sku") == ["C-3", "B-1", "A-2"]
    assert ordered("updated")[0] == "C-3"
    assert ordered("-updated")[-1] == "C-3"


def test_an_unknown_ordering_is_refused(staff):
    response = api_client(staff).get(reverse("api-products"), {"ordering": "cost_price"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["ordering"]


def test_products_with_equal_names_are_paged_without_overlap(staff):
    for _ in range(5):
        ProductFactory(name="Same")
    client = api_client(staff)

    pages = [
        skus(client.get(reverse("api-products"), {"ordering": "name", "limit": 2, "offset": n}))
        for n in (0, 2, 4)
    ]

    seen = [sku for page in pages for sku in page]
    assert len(seen) == len(set(seen)) == 5


def test_the_product_list_takes_a_fixed_number_of_queries(staff, django_assert_num_queries):
    ProductFactory.create_batch(3)
    client = api_client(staff)

    with django_assert_num_queries(2):  # page with categories, count
        response = client.get(reverse("api-products"), {"limit": 2})
    assert response.json()["count"] == 3

    ProductFactory.create_batch(8)
    with django_assert_num_queries(2):
        response = client.get(reverse("api-products"), {"limit": 10, "q": "product"})
    assert len(response.json()["results"]) == 10


def test_a_caller_reads_a_product(staff):
    product = ProductFactory(sku="MILK-1")

    response = api_client(staff).get(product_url(product.pk))

    assert response.status_code == 200
    assert response.json()["sku"] == "MILK-1"


@pytest.mark.parametrize("product_id", [uuid.uuid4(), "not-a-uuid"], ids=["unknown", "malformed"])
def test_an_unknown_product_answers_404_in_the_error_shape(staff, product_id):
    response = api_client(staff).get(product_url(product_id))

    assert response.status_code == 404
    assert response.json() == {
        "code": "unknown_product",
        "message": f"No product with id {product_id}.",
        "fields": {},
    }


# Scanner lookup ---------------------------------------------------------------------------


def lookup(user, **query):
    return api_client(user).get(reverse("api-product-lookup"), query)


def test_a_product_is_found_by_its_barcode(staff):
    product = ProductFactory(barcode="ab-123")

    response = lookup(staff, barcode="ab-123")

    assert response.status_code == 200
    assert response.json()["id"] == str(product.pk)


def test_a_barcode_must_match_exactly(staff):
    ProductFactory(barcode="ab-123")

    response = lookup(staff, barcode="AB-123")

    assert response.status_code == 404
    assert response.json() == {
        "code": "unknown_product",
        "message": "No product with the barcode AB-123.",
        "fields": {},
    }


def test_a_product_is_found_by_its_sku_whatever_the_case(staff):
    product = ProductFactory(sku="MILK-1")

    response = lookup(staff, sku="milk-1")

    assert response.status_code == 200
    assert response.json()["id"] == str(product.pk)


def test_an_inactive_product_is_found_too(staff):
    ProductFactory(sku="OLD-1", is_active=False)

    response = lookup(staff, sku="OLD-1")

    assert response.status_code == 200
    assert response.json()["is_active"] is False


def test_an_unknown_sku_answers_404(staff):
    response = lookup(staff, sku="NOPE")

    assert response.status_code == 404
    assert response.json()["message"] == "No product with the SKU NOPE."


@pytest.mark.parametrize("query", [{}, {"sku": "A", "barcode": "1"}], ids=["neither", "both"])
def test_the_lookup_takes_exactly_one_code(staff, query):
    response = lookup(staff, **query)

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Give exactly one of sku and barcode.",
        "fields": {},
    }


def test_a_blank_code_counts_as_none(staff):
    ProductFactory(sku="MILK-1")

    response = lookup(staff, barcode="", sku="milk-1")

    assert response.status_code == 200
    assert response.json()["sku"] == "MILK-1"


def test_the_lookup_takes_one_query(staff, django_assert_num_queries):
    ProductFactory(barcode="123")

    with django_assert_num_queries(1):
        lookup(staff, barcode="123")


# Writing products -------------------------------------------------------------------------


def test_an_admin_adds_a_product(admin):
    category = CategoryFactory()

    response = api_client(admin).post(
        reverse("api-products"),
        {
            "sku": "MILK-1",
            "barcode": "",
            "name": "Milk",
            "category": str(category.pk),
            "unit": "l",
            "cost_price": "0.80",
            "sale_price": 1.2,
            "low_stock_threshold": "12",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    product = Product.objects.get(sku="MILK-1")
    assert body["id"] == str(product.pk)
    assert (body["barcode"], body["category_name"], body["sale_price"]) == (
        None,
        category.name,
        "1.20",
    )
    assert body["low_stock_threshold"] == "12.000"


def test_a_product_needs_only_a_sku_and_a_name(admin):
    response = api_client(admin).post(
        reverse("api-products"), {"sku": "MILK-1", "name": "Milk"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["unit"], response.json()["is_active"]) == ("pcs", True)


def test_only_an_admin_adds_a_product(member):
    response = api_client(member).post(
        reverse("api-products"), {"sku": "MILK-1", "name": "Milk"}, format="json"
    )

    assert response.status_code == 403
    assert response.json() == {
        "code": "not_permitted",
        "message": "Only an administrator can add products.",
        "fields": {},
    }
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"), [("sku", "milk-1"), ("barcode", "4006381333931")], ids=["sku", "barcode"]
)
def test_a_used_sku_or_barcode_is_refused_naming_the_field(admin, field, value):
    ProductFactory(sku="MILK-1", barcode="4006381333931")

    response = api_client(admin).post(
        reverse("api-products"), {"sku": "NEW-1", "name": "New", field: value}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == [field]
    assert Product.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("cost_price", "-1"), ("unit", "crates"), ("sku", "A B"), ("low_stock_threshold", "0.0001")],
)
def test_invalid_product_values_are_refused_naming_the_field(admin, field, value):
    response = api_client(admin).post(
        reverse("api-products"), {"sku": "NEW-1", "name": "New", field: value}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_an_unknown_category_is_refused_naming_the_field(admin):
    response = api_client(admin).post(
        reverse("api-products"),
        {"sku": "NEW-1", "name": "New", "category": str(uuid.uuid4())},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["category"]


@pytest.mark.parametrize("field", ["id", "on_hand", "created_at", "updated_at"])
def test_fields_that_cannot_be_set_are_refused(admin, field):
    response = api_client(admin).post(
        reverse("api-products"), {"sku": "NEW-1", "name": "New", field: "1"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "not_accepted"
    assert response.json()["fields"] == {field: ["This field is not accepted here."]}
    assert not Product.objects.exists()


def test_an_admin_changes_a_product(admin):
    product = ProductFactory(barcode="123", is_active=True)

    response = api_client(admin).patch(
        product_url(product.pk),
        {"name": "Renamed", "barcode": None, "category": None, "is_active": False},
        format="json",
    )

    assert response.status_code == 200, response.json()
    product.refresh_from_db()
    assert (product.name, product.barcode, product.category, product.is_active) == (
        "Renamed",
        None,
        None,
        False,
    )
    assert response.json()["name"] == "Renamed"


def test_a_change_leaves_the_fields_not_given(admin):
    product = ProductFactory(sku="MILK-1", barcode="123")

    api_client(admin).patch(product_url(product.pk), {"name": "Renamed"}, format="json")

    product.refresh_from_db()
    assert (product.sku, product.barcode) == ("MILK-1", "123")


def test_only_an_admin_changes_a_product(member):
    product = ProductFactory(name="Milk")

    response = api_client(member).patch(product_url(product.pk), {"name": "X"}, format="json")

    assert response.status_code == 403
    product.refresh_from_db()
    assert product.name == "Milk"


def test_the_unit_of_a_product_with_stock_history_stays(admin):
    product = ProductFactory(unit=Unit.PIECE)
    receive_stock(actor=admin, branch_id=BranchFactory().pk, product_id=product.pk, quantity="1")

    response = api_client(admin).patch(product_url(product.pk), {"unit": "kg"}, format="json")

    assert response.status_code == 409
    assert list(response.json()["fields"]) == ["unit"]


@pytest.mark.parametrize("method", ["patch", "delete"])
@pytest.mark.parametrize("product_id", [uuid.uuid4(), "nope"], ids=["unknown", "malformed"])
def test_changing_an_unknown_product_answers_404(admin, method, product_id):
    response = getattr(api_client(admin), method)(product_url(product_id), {}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_product"


def test_an_admin_removes_a_product_without_history(admin):
    product = ProductFactory()

    response = api_client(admin).delete(product_url(product.pk))

    assert response.status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()


def test_only_an_admin_removes_a_product(member):
    product = ProductFactory()

    response = api_client(member).delete(product_url(product.pk))

    assert response.status_code == 403
    assert Product.objects.filter(pk=product.pk).exists()


def test_a_product_with_stock_history_is_not_removed(admin):
    product = ProductFactory(sku="MILK-1")
    receive_stock(actor=admin, branch_id=BranchFactory().pk, product_id=product.pk, quantity="1")

    response = api_client(admin).delete(product_url(product.pk))

    assert response.status_code == 409
    assert response.json() == {
        "code": "conflict",
        "message": "Product MILK-1 has stock history; deactivate it instead.",
        "fields": {},
    }
    assert Product.objects.filter(pk=product.pk).exists()


# Categories -------------------------------------------------------------------------------


def test_every_role_lists_categories_by_name(member):
    CategoryFactory(name="Dairy")
    CategoryFactory(name="Bakery")

    response = api_client(member).get(reverse("api-categories"))

    assert response.status_code == 200
    assert [c["name"] for c in response.json()["results"]] == ["Bakery", "Dairy"]


def test_categories_are_searched_by_name_whatever_the_case(staff):
    CategoryFactory(name="Dairy")
    CategoryFactory(name="Bakery")

    response = api_client(staff).get(reverse("api-categories"), {"q": "AIR"})

    assert [c["name"] for c in response.json()["results"]] == ["Dairy"]


def test_the_category_list_takes_a_fixed_number_of_queries(staff, django_assert_num_queries):
    CategoryFactory.create_batch(3)
    client = api_client(staff)

    with django_assert_num_queries(2):  # page, count
        client.get(reverse("api-categories"), {"limit": 2})

    CategoryFactory.create_batch(8)
    with django_assert_num_queries(2):
        response = client.get(reverse("api-categories"), {"limit": 10})
    assert response.json()["count"] == 11


def test_a_caller_reads_a_category(staff):
    category = CategoryFactory(name="Dairy", description="Milk and cheese")

    response = api_client(staff).get(category_url(category.pk))

    assert response.json() == {
        "id": str(category.pk),
        "name": "Dairy",
        "description": "Milk and cheese",
    }


@pytest.mark.parametrize("category_id", [uuid.uuid4(), "nope"], ids=["unknown", "malformed"])
def test_an_unknown_category_answers_404(staff, category_id):
    response = api_client(staff).get(category_url(category_id))

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_category"


def test_an_admin_adds_a_category(admin):
    response = api_client(admin).post(reverse("api-categories"), {"name": "Dairy"}, format="json")

    assert response.status_code == 201
    assert response.json()["id"] == str(Category.objects.get(name="Dairy").pk)
    assert response.json()["description"] == ""


def test_only_an_admin_adds_a_category(member):
    response = api_client(member).post(reverse("api-categories"), {"name": "Dairy"}, format="json")

    assert response.status_code == 403
    assert not Category.objects.exists()


def test_a_used_category_name_is_refused_whatever_its_case(admin):
    CategoryFactory(name="Dairy")

    response = api_client(admin).post(reverse("api-categories"), {"name": "dairy"}, format="json")

    assert response.status_code == 400
    assert response.json()["fields"] == {"name": ["A category named dairy already exists."]}


def test_a_category_id_cannot_be_chosen(admin):
    response = api_client(admin).post(
        reverse("api-categories"), {"name": "Dairy", "id": str(uuid.uuid4())}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "not_accepted"


def test_an_admin_renames_a_category(admin):
    category = CategoryFactory(name="Dairy")

    response = api_client(admin).patch(
        category_url(category.pk), {"name": "Dairy products"}, format="json"
    )

    assert response.status_code == 200
    category.refresh_from_db()
    assert category.name == "Dairy products"


def test_only_an_admin_renames_a_category(member):
    category = CategoryFactory(name="Dairy")

    response = api_client(member).patch(category_url(category.pk), {"name": "X"}, format="json")

    assert response.status_code == 403
    category.refresh_from_db()
    assert category.name == "Dairy"


def test_an_admin_removes_an_empty_category(admin):
    category = CategoryFactory()

    response = api_client(admin).delete(category_url(category.pk))

    assert response.status_code == 204
    assert not Category.objects.filter(pk=category.pk).exists()


def test_only_an_admin_removes_a_category(member):
    category = CategoryFactory()

    response = api_client(member).delete(category_url(category.pk))

    assert response.status_code == 403
    assert Category.objects.filter(pk=category.pk).exists()


def test_a_category_with_products_is_not_removed(admin):
    product = ProductFactory()

    response = api_client(admin).delete(category_url(product.category_id))

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert Category.objects.filter(pk=product.category_id).exists()


def test_an_unknown_state_filter_is_refused(staff):
    response = api_client(staff).get(reverse("api-products"), {"is_active": "perhaps"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["is_active"]
