"""The permission table of the supplier pages and API, one test per cell: ADMINs read and
change suppliers; managers (who may order stock at a branch) read them; staff are refused in
words (403); the signed-out are sent to sign in (pages) or asked for credentials (API)."""

import itertools

import pytest
from django.urls import reverse

from catalog.models import Supplier, SupplierProduct
from catalog.tests.factories import SupplierProductFactory
from inventory_project.tests.helpers import api_client
from inventory_project.tests.test_page_matrix import (
    ACTORS,
    DONE,
    HIDDEN,
    REFUSED,
    SEEN,
    SIGN_IN,
    World,
    outcome,
    world,  # noqa: F401 - the fixture, shared with the page matrix
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sold(world) -> SupplierProduct:  # noqa: F811 - the fixture imported above
    return SupplierProductFactory(product=world.product, supplier__code="ACME")


PAGES = {
    "suppliers": (lambda s: reverse("suppliers"), [SEEN, SEEN, REFUSED, SEEN, SIGN_IN]),
    "supplier page": (
        lambda s: reverse("supplier", args=[s.supplier_id]),
        [SEEN, SEEN, REFUSED, SEEN, SIGN_IN],
    ),
    "new supplier form": (
        lambda s: reverse("supplier-new"),
        [SEEN, REFUSED, REFUSED, REFUSED, SIGN_IN],
    ),
    "edit supplier form": (
        lambda s: reverse("supplier-edit", args=[s.supplier_id]),
        [SEEN, REFUSED, REFUSED, REFUSED, SIGN_IN],
    ),
    "unknown supplier": (
        lambda s: reverse("supplier", args=["00000000-0000-0000-0000-000000000000"]),
        [HIDDEN, HIDDEN, REFUSED, HIDDEN, SIGN_IN],
    ),
}


@pytest.mark.parametrize(
    ("name", "who"),
    list(itertools.product(PAGES, ACTORS)),
    ids=[f"{name} / {who}" for name, who in itertools.product(PAGES, ACTORS)],
)
def test_who_gets_each_supplier_page(world: World, sold, name, who):  # noqa: F811
    address, expected = PAGES[name]

    response = world.client(who).get(address(sold))

    assert outcome(response) == expected[ACTORS.index(who)]


# Forms: (sold, client) -> (response, whether the change was made) ---------------------------


def new_supplier(sold, client):
    response = client.post(
        reverse("supplier-new"),
        {"once": "new-key", "code": "NEW", "name": "New", "lead_time_days": "3", "currency": "EUR"},
    )
    return response, Supplier.objects.filter(code="NEW").exists()


def edit_supplier(sold, client):
    response = client.post(
        reverse("supplier-edit", args=[sold.supplier_id]),
        {"once": "edit-key", "code": "ACME", "name": "Renamed", "lead_time_days": "3",
         "currency": "EUR", "is_active": "on"},
    )  # fmt: skip
    return response, Supplier.objects.filter(name="Renamed").exists()


def set_line(sold, client):
    response = client.post(
        reverse("supplier-product-set", args=[sold.supplier_id]),
        {"once": "line-key", "product": sold.product.sku, "pack_size": "5", "price": "1",
         "minimum_order_quantity": "0"},
    )  # fmt: skip
    return response, SupplierProduct.objects.filter(pk=sold.pk, pack_size=5).exists()


def remove_line(sold, client):
    response = client.post(
        reverse("supplier-product-remove", args=[sold.supplier_id, sold.product_id]),
        {"once": "remove-key"},
    )
    return response, not SupplierProduct.objects.filter(pk=sold.pk).exists()


POSTERS = ["admin", "manager", "staff", "other_manager", "anonymous"]
FORMS = {
    "add a supplier": (new_supplier, [DONE, REFUSED, REFUSED, REFUSED, SIGN_IN]),
    "change a supplier": (edit_supplier, [DONE, REFUSED, REFUSED, REFUSED, SIGN_IN]),
    "set a product line": (set_line, [DONE, REFUSED, REFUSED, REFUSED, SIGN_IN]),
    "remove a product line": (remove_line, [DONE, REFUSED, REFUSED, REFUSED, SIGN_IN]),
}


@pytest.mark.parametrize(
    ("name", "who"),
    list(itertools.product(FORMS, POSTERS)),
    ids=[f"{name} / {who}" for name, who in itertools.product(FORMS, POSTERS)],
)
def test_who_may_post_each_supplier_form(world: World, sold, name, who):  # noqa: F811
    post, expected = FORMS[name]

    response, changed = post(sold, world.client(who))

    result = outcome(response, posted=True)
    assert result == expected[POSTERS.index(who)], response.content[:300]
    # Done exactly when the change was made: a refusal writes nothing.
    assert changed == (result == DONE)


# The API: (sold) -> (method, address, body) ---------------------------------------------------

ALLOWED, FORBIDDEN, NO_CREDENTIALS = 200, 403, 401

API = {
    "list": (lambda s: ("get", reverse("api-suppliers"), None), "read"),
    "one": (lambda s: ("get", reverse("api-supplier", args=[s.supplier_id]), None), "read"),
    "products": (
        lambda s: ("get", reverse("api-supplier-products", args=[s.supplier_id]), None),
        "read",
    ),
    "add": (lambda s: ("post", reverse("api-suppliers"), {"code": "NEW", "name": "N"}), "write"),
    "change": (
        lambda s: ("patch", reverse("api-supplier", args=[s.supplier_id]), {"name": "R"}),
        "write",
    ),
    "set line": (
        lambda s: (
            "post",
            reverse("api-supplier-products", args=[s.supplier_id]),
            {"product": str(s.product_id)},
        ),
        "write",
    ),
    "remove line": (
        lambda s: (
            "delete",
            reverse("api-supplier-product", args=[s.supplier_id, s.product_id]),
            None,
        ),
        "write",
    ),
}
EXPECTED = {
    "read": [ALLOWED, ALLOWED, FORBIDDEN, ALLOWED, NO_CREDENTIALS],
    "write": [ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, NO_CREDENTIALS],
}


@pytest.mark.parametrize(
    ("name", "who"),
    list(itertools.product(API, ACTORS)),
    ids=[f"API {name} / {who}" for name, who in itertools.product(API, ACTORS)],
)
def test_who_may_call_each_supplier_endpoint(world: World, sold, name, who):  # noqa: F811
    request, kind = API[name]
    method, address, body = request(sold)

    response = getattr(api_client(world.users[who]), method)(address, body, format="json")

    expected = EXPECTED[kind][ACTORS.index(who)]
    if expected == ALLOWED:
        assert 200 <= response.status_code < 300, response.json()
    elif expected == NO_CREDENTIALS:
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == expected
        assert response.json()["code"] == "not_permitted"
