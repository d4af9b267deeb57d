"""The permission table of reorder rules, one test per cell: ADMINs and the branch's
MANAGERs (order_stock) set and clear them; the branch's STAFF read them and are refused in
words; another branch's MANAGER finds nothing; the signed-out are sent to sign in (pages)
or asked for credentials (API)."""

import itertools

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from inventory_project.kernel.errors import NotFound, NotPermitted
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
from stock import services

pytestmark = pytest.mark.django_db

UNAUTHENTICATED = "unauthenticated"


def by_service(world: World, who: str, call: str) -> str:  # noqa: F811
    actor = world.users[who] or AnonymousUser()
    ids = {"actor": actor, "branch_id": world.branch.pk, "product_id": world.product.pk}
    try:
        if call == "set":
            services.set_reorder_rule(**ids, minimum="5", maximum="20")
        else:
            services.clear_reorder_rule(**ids)
    except NotFound:
        return HIDDEN
    except NotPermitted:
        return REFUSED
    return DONE


def by_api(world: World, who: str, method: str) -> str:  # noqa: F811
    url = reverse("api-stock-level-reorder-rule", args=[str(world.level.pk)])
    client = api_client(world.users[who])
    if method == "get":
        response = client.get(url)
    elif method == "put":
        response = client.put(url, {"minimum": "5", "maximum": "20"}, format="json")
    else:
        response = client.delete(url)
    return {
        200: SEEN if method == "get" else DONE,
        204: DONE,
        401: UNAUTHENTICATED,
        403: REFUSED,
        404: HIDDEN,
    }.get(response.status_code, f"unexpected {response.status_code}")


def by_page(world: World, who: str) -> str:  # noqa: F811
    client = world.client(who)
    url = reverse("stock-level-reorder-rule", args=[world.level.pk])
    return outcome(
        client.post(url, {"once": "a" * 32, "minimum": "5", "maximum": "20"}), posted=True
    )


# ACTORS: admin, manager, staff, other_manager, anonymous
CELLS = {
    "set a reorder rule (service)": (
        lambda w, who: by_service(w, who, "set"),
        [DONE, DONE, REFUSED, HIDDEN, HIDDEN],
    ),
    "clear a reorder rule (service)": (
        lambda w, who: by_service(w, who, "clear"),
        [DONE, DONE, REFUSED, HIDDEN, HIDDEN],
    ),
    "read a level's reorder terms (API)": (
        lambda w, who: by_api(w, who, "get"),
        [SEEN, SEEN, SEEN, HIDDEN, UNAUTHENTICATED],
    ),
    "set a reorder rule (API)": (
        lambda w, who: by_api(w, who, "put"),
        [DONE, DONE, REFUSED, HIDDEN, UNAUTHENTICATED],
    ),
    "clear a reorder rule (API)": (
        lambda w, who: by_api(w, who, "delete"),
        [DONE, DONE, REFUSED, HIDDEN, UNAUTHENTICATED],
    ),
    "reorder rule form (item page)": (by_page, [DONE, DONE, REFUSED, HIDDEN, SIGN_IN]),
}


@pytest.mark.parametrize(
    ("name", "who"),
    list(itertools.product(CELLS, ACTORS)),
    ids=[f"{name} / {who}" for name, who in itertools.product(CELLS, ACTORS)],
)
def test_who_may_do_what_with_reorder_rules(world: World, name, who):  # noqa: F811
    perform, expected = CELLS[name]

    assert perform(world, who) == expected[ACTORS.index(who)]
