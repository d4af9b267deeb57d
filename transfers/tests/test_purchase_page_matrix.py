"""The permission table of purchasing, as its pages show it: for every page, who gets it
(200), who is refused in words (403), who is told it does not exist (404) and who is sent to
sign in; for every form, who may post it (done), who is refused and who finds nothing.

Managers order (ORDER_STOCK) for their own branch, staff receive against an order
(RECEIVE_STOCK), ADMINs do everything, and another branch's manager finds nothing of it.
One test runs per cell.
"""

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory, SupplierFactory
from transfers import purchasing
from transfers.models import PurchaseOrder, PurchaseOrderStatus
from transfers.tests.factories import drafted_order, offered, receipt_items

SEEN = "seen"  # the page answers 200
DONE = "done"  # the form's change was made (the page redirects)
REFUSED = "refused"  # 403, in words
HIDDEN = "hidden"  # 404, as for something that does not exist
SIGN_IN = "sign in"  # redirected to the sign-in page

ACTORS = ["admin", "manager", "staff", "other_manager", "anonymous"]
POSTERS = ACTORS[:4]


@dataclass
class World:
    branch: object
    supplier: object
    product: object
    users: dict

    def client(self, who: str) -> Client:
        client = Client()
        if self.users[who] is not None:
            client.force_login(self.users[who])
        return client

    def order(self, status: str = PurchaseOrderStatus.DRAFT) -> PurchaseOrder:
        """An order of the branch in ``status``, taken there through the services."""
        admin = self.users["admin"]
        order = drafted_order(admin, self.branch, self.supplier, (self.product, 6))
        if status == PurchaseOrderStatus.DRAFT:
            return order
        order = purchasing.send_purchase_order(actor=admin, order_id=order.pk)
        if status == PurchaseOrderStatus.PARTIALLY_RECEIVED:
            order = purchasing.receive_purchase_order(
                actor=admin, order_id=order.pk, items=receipt_items((self.product, 2))
            )
        return order


@pytest.fixture
def world(db) -> World:
    branch, elsewhere = BranchFactory(code="BER-01"), BranchFactory(code="HAM-01")
    supplier = SupplierFactory(code="ACME")
    product = ProductFactory(sku="HAMMER-1")
    offered(supplier, product, pack_size="2")
    users = {
        "admin": AdminFactory(),
        "manager": MembershipFactory(branch=branch, role=Role.MANAGER).user,
        "staff": MembershipFactory(branch=branch, role=Role.STAFF).user,
        "other_manager": MembershipFactory(branch=elsewhere, role=Role.MANAGER).user,
        "anonymous": None,
    }
    return World(branch, supplier, product, users)


def outcome(response, *, posted: bool = False) -> str:
    if response.status_code == 302 and "/account/sign-in/" in response["Location"]:
        return SIGN_IN
    if posted and response.status_code == 302:
        return DONE
    return {200: SEEN, 403: REFUSED, 404: HIDDEN}.get(
        response.status_code, f"unexpected {response.status_code}"
    )


# Pages --------------------------------------------------------------------------------------


def of_order(name: str, status: str = PurchaseOrderStatus.DRAFT) -> Callable[[World], str]:
    return lambda world: reverse(name, args=[world.order(status).pk])


PAGES: dict[str, tuple[Callable[[World], str], list[str]]] = {
    "orders of all my branches": (
        lambda w: reverse("purchase-orders"),
        [SEEN, SEEN, SEEN, SEEN, SIGN_IN],
    ),
    "orders of the branch": (
        lambda w: reverse("purchase-orders") + "?branch=BER-01",
        [SEEN, SEEN, SEEN, HIDDEN, SIGN_IN],
    ),
    "new order form": (
        lambda w: reverse("purchase-order-new"),
        # The other manager orders for their own branch.
        [SEEN, SEEN, REFUSED, SEEN, SIGN_IN],
    ),
    "a draft": (of_order("purchase-order"), [SEEN, SEEN, SEEN, HIDDEN, SIGN_IN]),
    "a sent order": (
        of_order("purchase-order", PurchaseOrderStatus.SENT),
        [SEEN, SEEN, SEEN, HIDDEN, SIGN_IN],
    ),
    "a draft's edit form": (
        of_order("purchase-order-edit"),
        [SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN],
    ),
    "an order's CSV": (of_order("purchase-order-csv"), [SEEN, SEEN, SEEN, HIDDEN, SIGN_IN]),
}


@pytest.mark.parametrize(
    ("name", "who"),
    list(itertools.product(PAGES, ACTORS)),
    ids=[f"{name} / {who}" for name, who in itertools.product(PAGES, ACTORS)],
)
def test_who_gets_each_page(world, name, who):
    address, expected = PAGES[name]

    response = world.client(who).get(address(world))

    assert outcome(response) == expected[ACTORS.index(who)]


# Forms: (world, client) -> response ---------------------------------------------------------


def key(client: Client, url: str, form_id: str, name: str) -> str | None:
    """The form's one-time key as its page renders it; a reader not shown the form (or the
    page) posts a key of their own, as a hand-made request would."""
    page = client.get(url)
    html = page.content.decode()
    if page.status_code != 200 or f'id="{form_id}"' not in html:
        return "handmade0000"
    found = re.search(rf'name="{name}" value="(\w+)"', html[html.index(f'id="{form_id}"') :])
    return found.group(1)


def draft_an_order(world: World, client: Client):
    url = reverse("purchase-order-new")
    data = {
        "once": key(client, url, "order-form", "once"),
        "branch": "BER-01",
        "supplier": "ACME",
        "action": "save",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": "HAMMER-1",
        "lines-0-quantity": "4",
    }
    return client.post(url, data)


def edit_a_draft(world: World, client: Client):
    order = world.order()
    url = reverse("purchase-order-edit", args=[order.pk])
    data = {
        "once": key(client, url, "order-form", "once"),
        "action": "save",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": "HAMMER-1",
        "lines-0-quantity": "8",
    }
    return client.post(url, data)


def step(name: str, status: str, **fields: str):
    def post(world: World, client: Client):
        order = world.order(status)
        page = reverse("purchase-order", args=[order.pk])
        data = {f"{name}-once": key(client, page, f"step-{name}", f"{name}-once")}
        for field, value in fields.items():
            data[f"{name}-{field.format(product=world.product.pk)}"] = value
        return client.post(reverse("purchase-order-step", args=[order.pk, name]), data)

    return post


FORMS = {
    "draft an order for the branch": (draft_an_order, [DONE, DONE, REFUSED, REFUSED]),
    "edit a draft": (edit_a_draft, [DONE, DONE, REFUSED, HIDDEN]),
    "send a draft": (step("send", PurchaseOrderStatus.DRAFT), [DONE, DONE, REFUSED, HIDDEN]),
    "cancel a draft": (
        step("cancel", PurchaseOrderStatus.DRAFT, reason="No longer needed"),
        [DONE, DONE, REFUSED, HIDDEN],
    ),
    "receive against a sent order": (
        step("receive", PurchaseOrderStatus.SENT, **{"{product}-quantity": "2"}),
        [DONE, DONE, DONE, HIDDEN],
    ),
    "close a partly received order short": (
        step("close", PurchaseOrderStatus.PARTIALLY_RECEIVED, reason="Discontinued"),
        [DONE, DONE, REFUSED, HIDDEN],
    ),
}


@pytest.mark.parametrize(
    ("name", "who"),
    list(itertools.product(FORMS, POSTERS)),
    ids=[f"{name} / {who}" for name, who in itertools.product(FORMS, POSTERS)],
)
def test_who_may_post_each_form(world, name, who):
    post, expected = FORMS[name]

    response = post(world, world.client(who))

    assert outcome(response, posted=True) == expected[POSTERS.index(who)]
