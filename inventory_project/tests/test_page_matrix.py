"""The permission table of the design, as the pages show it: for every page, who gets it
(200), who is told it does not exist (404) and who is sent to sign in; for every form, who
may post it (done), who is refused in words (403) and who finds nothing (404). The services
decide; this table checks that every page asks them and says what they answered.

One test runs per cell.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Role, User
from accounts.tests.factories import AdminFactory, MembershipFactory
from alerts.models import AlertStatus
from alerts.tests.factories import LowStockAlertFactory
from branches.tests.factories import BranchFactory
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from stock import services as stock
from stock.models import MovementKind, StockImport, StockLevel, StockMovement
from transfers import services as transfer_services
from transfers.models import Transfer, TransferEvent

SEEN = "seen"  # the page answers 200
DONE = "done"  # the form's change was made (the page redirects or answers 200)
REFUSED = "refused"  # 403, in words
HIDDEN = "hidden"  # 404, as for something that does not exist
SIGN_IN = "sign in"  # redirected to the sign-in page

ACTORS = ["admin", "manager", "staff", "other_manager", "anonymous"]


@dataclass
class World:
    branch: object
    product: object
    level: StockLevel
    users: dict

    def client(self, who: str) -> Client:
        client = Client()
        if self.users[who] is not None:
            client.force_login(self.users[who])
        return client


@pytest.fixture
def world(db) -> World:
    branch, elsewhere = BranchFactory(code="BER-01"), BranchFactory(code="HAM-01")
    product = ProductFactory(barcode="4006381333931")
    admin = AdminFactory()
    stock.receive_stock(actor=admin, branch_id=branch.pk, product_id=product.pk, quantity=20)
    users = {
        "admin": admin,
        "manager": MembershipFactory(branch=branch, role=Role.MANAGER).user,
        "staff": MembershipFactory(branch=branch, role=Role.STAFF).user,
        "other_manager": MembershipFactory(branch=elsewhere, role=Role.MANAGER).user,
        "anonymous": None,
    }
    level = StockLevel.objects.get(branch=branch, product=product)
    return World(branch, product, level, users)


def outcome(response, *, posted: bool = False) -> str:
    if response.status_code == 302 and "/account/sign-in/" in response["Location"]:
        return SIGN_IN
    if posted and response.status_code in (200, 302):
        return DONE
    return {200: SEEN, 403: REFUSED, 404: HIDDEN}.get(
        response.status_code, f"unexpected {response.status_code}"
    )


def a_transfer(world: World, *, shipped: bool = False):
    """Goods from MUC-01 to the branch; the other manager (HAM-01) cannot see them."""
    admin, source = world.users["admin"], BranchFactory(code="MUC-01")
    stock.receive_stock(actor=admin, branch_id=source.pk, product_id=world.product.pk, quantity=5)
    transfer = transfer_services.send_transfer(
        actor=admin,
        from_branch_id=source.pk,
        to_branch_id=world.branch.pk,
        items=[transfer_services.TransferItem(product_id=world.product.pk, quantity=2)],
    )
    if shipped:
        transfer_services.ship_transfer(actor=admin, transfer_id=transfer.pk)
    return transfer.pk


# Pages: (world) -> address ------------------------------------------------------------------


def page(name: str, *, branch: bool = False, arg: Callable | None = None, **query):
    def address(world: World) -> str:
        url = reverse(name, args=[arg(world)] if arg else [])
        params = {**query, **({"branch": world.branch.code} if branch else {})}
        return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")

    return address


PAGES = {
    "dashboard of the branch": (page("home", branch=True), [SEEN, SEEN, SEEN, HIDDEN, SIGN_IN]),
    "stock list of the branch": (
        page("stock-list", branch=True),
        [SEEN, SEEN, SEEN, HIDDEN, SIGN_IN],
    ),
    "item page": (
        page("stock-level", arg=lambda w: w.level.pk),
        [SEEN, SEEN, SEEN, HIDDEN, SIGN_IN],
    ),
    "receive form": (
        lambda w: reverse("stock-level-move", args=[w.level.pk, "receive"]),
        [SEEN, SEEN, SEEN, HIDDEN, SIGN_IN],
    ),
    "issue form": (
        lambda w: reverse("stock-level-move", args=[w.level.pk, "issue"]),
        [SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN],
    ),
    "adjust form": (
        lambda w: reverse("stock-level-move", args=[w.level.pk, "adjust"]),
        [SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN],
    ),
    "count form": (
        lambda w: reverse("stock-level-move", args=[w.level.pk, "count"]),
        [SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN],
    ),
    "scan at the branch": (page("scan", branch=True), [SEEN, SEEN, SEEN, HIDDEN, SIGN_IN]),
    "products": (page("products"), [SEEN, SEEN, SEEN, SEEN, SIGN_IN]),
    "product page": (
        page("product", arg=lambda w: w.product.pk),
        [SEEN, SEEN, SEEN, SEEN, SIGN_IN],
    ),
    "new product form": (page("product-new"), [SEEN, REFUSED, REFUSED, REFUSED, SIGN_IN]),
    "alerts": (page("alerts"), [SEEN, SEEN, SEEN, SEEN, SIGN_IN]),
    "audit": (page("audit"), [SEEN, SEEN, REFUSED, SEEN, SIGN_IN]),
    "audit of the branch": (page("audit", branch=True), [SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN]),
    "account": (page("account"), [SEEN, SEEN, SEEN, SEEN, SIGN_IN]),
    "password reset": (page("password_reset"), [SEEN, SEEN, SEEN, SEEN, SEEN]),
    "branch directory": (page("branch-directory"), [SEEN, SEEN, SEEN, SEEN, SIGN_IN]),
    "transfers": (page("transfers"), [SEEN, SEEN, SEEN, SEEN, SIGN_IN]),
    "transfers of the branch": (
        page("transfers", branch=True),
        [SEEN, SEEN, SEEN, HIDDEN, SIGN_IN],
    ),
    "new transfer": (page("transfer-new"), [SEEN, SEEN, REFUSED, SEEN, SIGN_IN]),
    "new transfer as the reorder report links it": (
        page(
            "transfer-new",
            kind="request",
            to="BER-01",
            product="X",
            quantity="3",
            **{"from": "HAM-01"},
        ),
        [SEEN, SEEN, REFUSED, SEEN, SIGN_IN],
    ),
    "product search of the new transfer form": (
        page("transfer-products", q="SKU"),
        [SEEN, SEEN, SEEN, SEEN, SIGN_IN],
    ),
    "transfer page": (page("transfer", arg=a_transfer), [SEEN, SEEN, SEEN, HIDDEN, SIGN_IN]),
    "transfer note": (page("transfer-note", arg=a_transfer), [SEEN, SEEN, SEEN, HIDDEN, SIGN_IN]),
    "people": (page("people"), [SEEN, SEEN, REFUSED, SEEN, SIGN_IN]),
    "people of the branch": (page("people", branch=True), [SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN]),
    "person page": (
        page("person", arg=lambda world: world.users["staff"].pk),
        [SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN],
    ),
    "invite form": (page("person-invite"), [SEEN, SEEN, REFUSED, SEEN, SIGN_IN]),
    "deactivation page": (
        page("person-deactivate", arg=lambda world: world.users["staff"].pk),
        [SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN],
    ),
    # A link that is no longer good is explained to anyone, signed in or not.
    "invitation link gone stale": (
        lambda world: reverse("welcome", args=["bm9ib2R5", "x-y"]),
        [SEEN, SEEN, SEEN, SEEN, SEEN],
    ),
    "reports": (page("reports"), [SEEN, SEEN, REFUSED, SEEN, SIGN_IN]),
    "reports of the branch": (page("reports", branch=True), [SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN]),
    "stock value report of the branch": (
        page("report-stock-value", branch=True),
        [SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN],
    ),
    "movements report of the branch": (
        page("report-movements", branch=True),
        [SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN],
    ),
    "movers report of the branch": (
        page("report-movers", branch=True),
        [SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN],
    ),
    "reorder report of the branch": (
        page("report-reorder", branch=True),
        [SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN],
    ),
    "import page": (page("imports"), [SEEN, SEEN, REFUSED, SEEN, SIGN_IN]),
    "import page of the branch": (
        page("imports", branch=True),
        [SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN],
    ),
    "reorder CSV of the branch": (
        page("report-reorder-csv", branch=True),
        [SEEN, SEEN, REFUSED, HIDDEN, SIGN_IN],
    ),
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


# Forms: (world, client) -> (response, whether the change was made) --------------------------


def move(kind: str, field: str, value: str, movement: MovementKind, **extra):
    def post(world: World, client: Client):
        before = StockMovement.objects.filter(kind=movement).count()
        response = client.post(
            reverse("stock-level-move", args=[world.level.pk, kind]),
            {field: value, "once": f"{kind}-key", **extra},
        )
        return response, StockMovement.objects.filter(kind=movement).count() == before + 1

    return post


def scan(action: str, movement: MovementKind):
    def post(world: World, client: Client):
        before = StockMovement.objects.filter(kind=movement).count()
        response = client.post(
            reverse("scan-record") + f"?branch={world.branch.code}",
            {"product": world.product.pk, "quantity": "1", "action": action, "once": "scan-key"},
        )
        return response, StockMovement.objects.filter(kind=movement).count() == before + 1

    return post


def new_product(world: World, client: Client):
    response = client.post(
        reverse("product-new"),
        {
            "sku": "NEW-1",
            "name": "New",
            "unit": "pcs",
            "low_stock_threshold": "0",
            "cost_price": "0",
            "sale_price": "0",
            "once": "product-key",
        },
    )
    return response, Product.objects.filter(sku="NEW-1").exists()


def acknowledge_selected(world: World, client: Client):
    alert = LowStockAlertFactory(stock_level__branch=world.branch)
    response = client.post(
        reverse("alerts-acknowledge"), {"alerts": [alert.pk], "once": "bulk-key"}
    )
    alert.refresh_from_db()
    return response, alert.status == AlertStatus.ACKNOWLEDGED


def start_a_transfer(world: World, client: Client):
    response = client.post(
        reverse("transfer-new"),
        {
            "once": "new-transfer-key",
            "kind": "request",
            "from": "HAM-01",
            "to": world.branch.code,
            "note": "",
            "action": "create",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-product": world.product.sku,
            "lines-0-quantity": "2",
        },
    )
    return response, Transfer.objects.exists()


def receive_part(world: World, client: Client):
    pk = a_transfer(world, shipped=True)
    response = client.post(
        reverse("transfer-step", args=[pk, "receive"]),
        {"receive-once": "receive-key", f"receive-{world.product.pk}": "1", "receive-note": ""},
    )
    return response, TransferEvent.objects.filter(step="RECEIVE").exists()


def close_short(world: World, client: Client):
    pk = a_transfer(world, shipped=True)
    response = client.post(
        reverse("transfer-step", args=[pk, "close"]),
        {"close-once": "close-key", "close-reason": "LOST", "close-note": ""},
    )
    return response, TransferEvent.objects.filter(step="CLOSE").exists()


def invite_someone(world: World, client: Client):
    response = client.post(
        reverse("person-invite"),
        {
            "email": "invited@example.com",
            "branch": str(world.branch.pk),
            "role": "STAFF",
            "once": "invite-key",
        },
    )
    return response, User.objects.filter(email="invited@example.com").exists()


def deactivate_staff(world: World, client: Client):
    staff = world.users["staff"]
    response = client.post(
        reverse("person-deactivate", args=[staff.pk]), {"deactivate-once": "deactivate-key"}
    )
    staff.refresh_from_db()
    return response, not staff.is_active


def remove_staff_role(world: World, client: Client):
    membership = Membership.objects.get(user=world.users["staff"], branch=world.branch)
    response = client.post(
        reverse("person-role-remove", args=[membership.user_id, membership.pk]),
        {f"remove-{membership.pk}-once": "remove-key"},
    )
    return response, not Membership.objects.filter(pk=membership.pk).exists()


def upload_count(world: World, client: Client):
    data = f"sku,quantity\n{world.product.sku},5\n".encode()
    response = client.post(
        reverse("imports"),
        {
            "kind": "STOCK_COUNT",
            "branch": world.branch.code,
            "encoding": "auto",
            "once": "upload-key",
            "file": SimpleUploadedFile("count.csv", data),
        },
    )
    return response, StockImport.objects.exists()


FORMS = {
    "receive": (move("receive", "quantity", "2", MovementKind.RECEIPT), [DONE, DONE, DONE, HIDDEN]),
    "issue": (move("issue", "quantity", "2", MovementKind.ISSUE), [DONE, DONE, REFUSED, HIDDEN]),
    "adjust": (
        move("adjust", "delta", "-1", MovementKind.ADJUSTMENT, reason="DAMAGED"),
        [DONE, DONE, REFUSED, HIDDEN],
    ),
    "count": (move("count", "counted", "5", MovementKind.COUNT), [DONE, DONE, REFUSED, HIDDEN]),
    "scan a receipt": (scan("receive", MovementKind.RECEIPT), [DONE, DONE, DONE, HIDDEN]),
    "scan an issue": (scan("issue", MovementKind.ISSUE), [DONE, DONE, REFUSED, HIDDEN]),
    "add a product": (new_product, [DONE, REFUSED, REFUSED, REFUSED]),
    "acknowledge selected alerts": (acknowledge_selected, [DONE, DONE, REFUSED, HIDDEN]),
    "start a transfer": (start_a_transfer, [DONE, DONE, REFUSED, REFUSED]),
    "receive part of a transfer": (receive_part, [DONE, DONE, DONE, HIDDEN]),
    "close a transfer short": (close_short, [DONE, DONE, DONE, HIDDEN]),
    "invite someone": (invite_someone, [DONE, DONE, REFUSED, HIDDEN]),
    "deactivate staff": (deactivate_staff, [DONE, DONE, REFUSED, HIDDEN]),
    "remove a staff role": (remove_staff_role, [DONE, DONE, REFUSED, HIDDEN]),
    "upload a stock count": (upload_count, [DONE, DONE, REFUSED, HIDDEN]),
}
POSTERS = ACTORS[:-1]


@pytest.mark.parametrize(
    ("name", "who"),
    list(itertools.product(FORMS, POSTERS)),
    ids=[f"{name} / {who}" for name, who in itertools.product(FORMS, POSTERS)],
)
def test_who_may_post_each_form(world, name, who):
    post, expected = FORMS[name]

    response, changed = post(world, world.client(who))

    result = outcome(response, posted=True)
    assert result == expected[POSTERS.index(who)], response.content[:300]
    # Done exactly when the change was made: a refusal writes nothing.
    assert changed == (result == DONE)


@pytest.mark.parametrize("name", FORMS)
def test_nobody_signed_out_posts_any_form(world, name):
    post, _ = FORMS[name]

    response, changed = post(world, world.client("anonymous"))

    assert outcome(response, posted=True) == SIGN_IN
    assert not changed


ITEM_CONTROLS = {"receive": "Receive", "issue": "Issue", "adjust": "Adjust", "count": "Count"}


@pytest.mark.parametrize("who", ["admin", "manager", "staff"])
def test_the_item_page_offers_exactly_the_forms_its_reader_may_post(world, who):
    response = world.client(who).get(reverse("stock-level", args=[world.level.pk]))

    offered = {
        kind
        for kind in ITEM_CONTROLS
        if reverse("stock-level-move", args=[world.level.pk, kind]) in response.text
    }
    assert offered == ({"receive"} if who == "staff" else set(ITEM_CONTROLS))
