"""Who may replenish, cell by cell: the page, its button, the API and the service, for an
ADMIN, the branch's MANAGER and STAFF, a MANAGER of another branch and someone signed out.

ORDER_STOCK decides: a MANAGER replenishes their own branches, an ADMIN every branch; STAFF
are refused in words (403); a branch the reader does not replenish is not found (404).
"""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.errors import UnknownBranch
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory, SupplierFactory
from inventory_project.kernel.errors import NotPermitted
from inventory_project.tests.helpers import api_client
from stock.models import StockLevel
from transfers import replenishment
from transfers.models import PurchaseOrder
from transfers.tests.factories import offered

pytestmark = pytest.mark.django_db

SEEN, DONE, REFUSED, HIDDEN, SIGN_IN = "seen", "done", "refused", "hidden", "sign in"
ACTORS = ["admin", "manager", "staff", "other_manager", "anonymous"]


@pytest.fixture
def world():
    branch, elsewhere = BranchFactory(code="BER-01"), BranchFactory(code="HAM-01")
    product = ProductFactory(low_stock_threshold=Decimal(5))
    offered(SupplierFactory(), product, preferred=True)
    StockLevel.objects.create(branch=branch, product=product, on_hand=0)
    users = {
        "admin": AdminFactory(),
        "manager": MembershipFactory(branch=branch, role=Role.MANAGER).user,
        "staff": MembershipFactory(branch=branch, role=Role.STAFF).user,
        "other_manager": MembershipFactory(branch=elsewhere, role=Role.MANAGER).user,
        "anonymous": None,
    }
    return {"branch": branch, "users": users}


def page_client(world, who) -> Client:
    client = Client()
    if world["users"][who] is not None:
        client.force_login(world["users"][who])
    return client


def outcome(response, *, posted=False) -> str:
    if response.status_code == 302 and "/account/sign-in/" in response["Location"]:
        return SIGN_IN
    if posted and response.status_code in (201, 302):
        return DONE
    return {200: SEEN, 401: SIGN_IN, 403: REFUSED, 404: HIDDEN}.get(
        response.status_code, f"unexpected {response.status_code}"
    )


def cells(expected: list[str]):
    return pytest.mark.parametrize(("who", "expected"), list(zip(ACTORS, expected, strict=True)))


@cells([SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN])
def test_the_page_of_the_branch(world, who, expected):
    url = reverse("replenishment") + f"?branch={world['branch'].code}"

    # The other manager has a page of their own, but not of this branch.
    assert outcome(page_client(world, who).get(url)) == expected


@cells([SEEN, SEEN, REFUSED, SEEN, SIGN_IN])
def test_the_page_of_all_ones_branches(world, who, expected):
    assert outcome(page_client(world, who).get(reverse("replenishment"))) == expected


@cells([DONE, DONE, REFUSED, HIDDEN, SIGN_IN])
def test_creating_drafts_for_the_branch(world, who, expected):
    branch = world["branch"]
    url = reverse("replenishment") + f"?branch={branch.code}"
    client = page_client(world, who)
    if who in ("admin", "manager"):
        (row,) = replenishment.plan(user=world["users"][who], branch=branch.pk).rows
        choice = row.order_key
    else:
        choice = "order:00000000-0000-0000-0000-000000000000"

    response = client.post(url, {"once": "k" * 32, "choices": [choice]})

    assert outcome(response, posted=True) == expected
    assert PurchaseOrder.objects.exists() == (expected == DONE)


@cells([SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN])
def test_the_plan_in_the_api(world, who, expected):
    client = api_client(world["users"][who])

    response = client.get(reverse("api-replenishment"), {"branch": str(world["branch"].pk)})

    assert outcome(response) == expected


@cells([DONE, DONE, REFUSED, HIDDEN, SIGN_IN])
def test_applying_in_the_api(world, who, expected):
    client = api_client(world["users"][who])

    response = client.post(
        reverse("api-replenishment-apply"), {"branch": str(world["branch"].pk)}, format="json"
    )

    assert outcome(response, posted=True) == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [("admin", DONE), ("manager", DONE), ("staff", REFUSED), ("other_manager", HIDDEN)],
)
def test_the_service(world, who, expected):
    user = world["users"][who]
    try:
        replenishment.apply_plan(actor=user, branch_id=world["branch"].pk)
        found = DONE
    except NotPermitted:
        found = REFUSED
    except UnknownBranch:
        found = HIDDEN

    assert found == expected
