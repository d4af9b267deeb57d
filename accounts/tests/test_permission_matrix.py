"""The permission table of the design, row by row, for every kind of user.

MATRIX is the one table: each action names the real way it is done (a stock or transfer
service, an API endpoint, the admin, or the permission module for actions whose workflows
build on it) and
the exact outcome for each actor. One test runs per cell.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import permissions, services
from accounts.models import Role, User
from accounts.permissions import Action
from accounts.tests.factories import AdminFactory, MembershipFactory, UserFactory
from alerts import selectors as alert_selectors
from alerts import services as alerts
from alerts.tests.factories import LowStockAlertFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory, SupplierFactory, SupplierProductFactory
from inventory_project.kernel.errors import DomainError, NotFound, NotPermitted
from stock import services as stock
from stock.models import StockLevel, StockMovement
from transfers import purchasing
from transfers import services as transfers

ALLOWED = "allowed"
FORBIDDEN = "forbidden"  # may see it, may not do it: 403 / NotPermitted
HIDDEN = "hidden"  # may not even see it: 404 / NotFound
UNAUTHENTICATED = "unauthenticated"  # 401, or the sign-in page

A, F, H, U = ALLOWED, FORBIDDEN, HIDDEN, UNAUTHENTICATED

ACTORS = ["admin", "manager", "staff", "other_manager", "other_staff", "inactive", "anonymous"]


@dataclass
class World:
    branch: object
    other_branch: object
    product: object
    users: dict
    staff_member: User  # a second STAFF of the branch, to be managed
    former_staff: User  # an inactive STAFF of the branch, to be reactivated
    newcomer: User  # someone with no role yet, to be appointed


def outcome_of_service(call: Callable[[], object]) -> str:
    try:
        call()
    except NotFound:
        return HIDDEN
    except NotPermitted:
        return FORBIDDEN
    return ALLOWED


def outcome_of_response(response) -> str:
    return {200: A, 201: A, 204: A, 401: U, 403: F, 404: H}.get(
        response.status_code, f"unexpected {response.status_code}: {response.content[:200]}"
    )


def api_client(world: World, who: str) -> APIClient:
    client = APIClient()
    user = world.users[who]
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.users[who].token}")
    return client


# Performers: (world, who) -> outcome ------------------------------------------------------


def stock_service(name: str, **arguments: object) -> Callable[[World, str], str]:
    def perform(world: World, who: str) -> str:
        actor = world.users[who] or AnonymousUser()
        service = getattr(stock, name)
        return outcome_of_service(
            lambda: service(
                actor=actor, branch_id=world.branch.pk, product_id=world.product.pk, **arguments
            )
        )

    return perform


def sees(model: type) -> Callable[[World, str], str]:
    """Does the branch's row appear in the user's scoped queryset?"""

    def perform(world: World, who: str) -> str:
        actor = world.users[who] or AnonymousUser()
        rows = permissions.scope(model.objects.filter(branch=world.branch), actor)
        return ALLOWED if rows.exists() else HIDDEN

    return perform


def sees_alert(world: World, who: str) -> str:
    actor = world.users[who] or AnonymousUser()
    alert = LowStockAlertFactory(stock_level__branch=world.branch)
    return ALLOWED if alert_selectors.visible_alerts(actor).filter(pk=alert.pk).exists() else HIDDEN


def acknowledge_alert(world: World, who: str) -> str:
    """An OPEN alert at the branch, acknowledged by the user."""
    actor = world.users[who] or AnonymousUser()
    alert = LowStockAlertFactory(stock_level__branch=world.branch)
    return outcome_of_service(lambda: alerts.acknowledge_alert(actor=actor, alert_id=alert.pk))


def transfer_step(step: str) -> Callable[[World, str], str]:
    """A transfer between the branch and a third branch, brought to where ``step`` applies,
    then attempted by the user: the other branch's people have nothing to do with it."""

    def perform(world: World, who: str) -> str:
        actor = world.users[who] or AnonymousUser()
        admin, third = AdminFactory(), BranchFactory()
        lines = [transfers.TransferItem(product_id=world.product.pk, quantity="1")]
        if step == "request":
            return outcome_of_service(
                lambda: transfers.request_transfer(
                    actor=actor, from_branch_id=third.pk, to_branch_id=world.branch.pk, items=lines
                )
            )
        if step == "approve":
            transfer = transfers.request_transfer(
                actor=admin, from_branch_id=world.branch.pk, to_branch_id=third.pk, items=lines
            )
            return outcome_of_service(
                lambda: transfers.approve_transfer(actor=actor, transfer_id=transfer.pk)
            )
        if step == "receive":
            stock.receive_stock(
                actor=admin, branch_id=third.pk, product_id=world.product.pk, quantity=1
            )
            transfer = transfers.send_transfer(
                actor=admin, from_branch_id=third.pk, to_branch_id=world.branch.pk, items=lines
            )
            transfers.ship_transfer(actor=admin, transfer_id=transfer.pk)
            return outcome_of_service(
                lambda: transfers.receive_transfer(
                    actor=actor, transfer_id=transfer.pk, quantities={world.product.pk: 1}
                )
            )
        transfer = transfers.request_transfer(
            actor=admin, from_branch_id=third.pk, to_branch_id=world.branch.pk, items=lines
        )
        return outcome_of_service(
            lambda: transfers.cancel_transfer(actor=actor, transfer_id=transfer.pk)
        )

    return perform


def purchase_step(step: str) -> Callable[[World, str], str]:
    """A purchase order of the branch, drafted by an ADMIN and brought to where ``step``
    applies (``draft`` drafts one), then attempted by the user."""

    def perform(world: World, who: str) -> str:
        actor = world.users[who] or AnonymousUser()
        admin = AdminFactory()
        supplier = SupplierFactory()
        SupplierProductFactory(supplier=supplier, product=world.product)
        items = [purchasing.OrderItem(product_id=world.product.pk, quantity="2")]
        if step == "draft":
            return outcome_of_service(
                lambda: purchasing.draft_purchase_order(
                    actor=actor, branch_id=world.branch.pk, supplier_id=supplier.pk, items=items
                )
            )
        order = purchasing.draft_purchase_order(
            actor=admin, branch_id=world.branch.pk, supplier_id=supplier.pk, items=items
        )
        if step == "send":
            return outcome_of_service(
                lambda: purchasing.send_purchase_order(actor=actor, order_id=order.pk)
            )
        if step == "cancel":
            return outcome_of_service(
                lambda: purchasing.cancel_purchase_order(actor=actor, order_id=order.pk)
            )
        purchasing.send_purchase_order(actor=admin, order_id=order.pk)
        arrived = [purchasing.ReceiptItem(product_id=world.product.pk, quantity="1")]
        if step == "receive":
            return outcome_of_service(
                lambda: purchasing.receive_purchase_order(
                    actor=actor, order_id=order.pk, items=arrived
                )
            )
        purchasing.receive_purchase_order(actor=admin, order_id=order.pk, items=arrived)
        return outcome_of_service(
            lambda: purchasing.close_purchase_order(actor=actor, order_id=order.pk, reason="short")
        )

    return perform


def add_staff(world: World, who: str) -> str:
    response = api_client(world, who).post(
        reverse("api-users"),
        {
            "email": f"new.{who}@example.com",
            "password": "a-long-enough-passphrase",
            "branch": str(world.branch.pk),
            "role": Role.STAFF,
        },
        format="json",
    )
    return outcome_of_response(response)


def deactivate_staff(world: World, who: str) -> str:
    url = reverse("api-user-deactivate", args=[world.staff_member.pk])
    return outcome_of_response(api_client(world, who).post(url))


def reactivate_staff(world: World, who: str) -> str:
    url = reverse("api-user-reactivate", args=[world.former_staff.pk])
    return outcome_of_response(api_client(world, who).post(url))


def appoint_manager(world: World, who: str) -> str:
    response = api_client(world, who).post(
        reverse("api-memberships"),
        {"email": world.newcomer.email, "branch": str(world.branch.pk), "role": "MANAGER"},
        format="json",
    )
    return outcome_of_response(response)


def edit_catalog(world: World, who: str) -> str:
    client = Client()
    if world.users[who] is not None:
        client.force_login(world.users[who])
    response = client.get(reverse("admin:catalog_product_add"))
    if response.status_code == 302:
        # The admin sends everyone it refuses to its sign-in page.
        return FORBIDDEN if world.users[who] is not None and who != "inactive" else U
    return outcome_of_response(response)


Row = tuple[Action | None, Callable[[World, str], str], tuple[str, ...]]

MATRIX: dict[str, Row] = {
    # action: (permission asked, how it is done, outcome for each of ACTORS:
    #          admin, manager, staff, other manager, other staff, inactive, anonymous)
    "view stock of the branch": (Action.VIEW, sees(StockLevel), (A, A, A, H, H, H, H)),
    "view the ledger of the branch": (Action.VIEW, sees(StockMovement), (A, A, A, H, H, H, H)),
    "view alerts of the branch": (Action.VIEW, sees_alert, (A, A, A, H, H, H, H)),
    "receive stock": (
        Action.RECEIVE_STOCK,
        stock_service("receive_stock", quantity="5"),
        (A, A, A, H, H, H, H),
    ),
    "issue stock": (
        Action.ISSUE_STOCK,
        stock_service("issue_stock", quantity="1"),
        (A, A, F, H, H, H, H),
    ),
    "adjust stock": (
        Action.ADJUST_STOCK,
        stock_service("adjust_stock", delta="-1", reason="DAMAGED"),
        (A, A, F, H, H, H, H),
    ),
    "count stock": (
        Action.COUNT_STOCK,
        stock_service("count_stock", counted="50"),
        (A, A, F, H, H, H, H),
    ),
    "set low-stock thresholds": (
        Action.SET_THRESHOLDS,
        stock_service("set_low_stock_threshold", threshold="10"),
        (A, A, F, H, H, H, H),
    ),
    "set a reorder rule at the branch": (
        Action.ORDER_STOCK,
        stock_service("set_reorder_rule", minimum="5", maximum="20"),
        (A, A, F, H, H, H, H),
    ),
    "clear a reorder rule at the branch": (
        Action.ORDER_STOCK,
        stock_service("clear_reorder_rule"),
        (A, A, F, H, H, H, H),
    ),
    "request a transfer into the branch": (
        Action.REQUEST_TRANSFER,
        transfer_step("request"),
        (A, A, F, H, H, H, H),
    ),
    "approve / ship a transfer out of the branch": (
        Action.DISPATCH_TRANSFER,
        transfer_step("approve"),
        (A, A, F, H, H, H, H),
    ),
    "receive a transfer into the branch": (
        Action.RECEIVE_TRANSFER,
        transfer_step("receive"),
        (A, A, A, H, H, H, H),
    ),
    "cancel a transfer": (
        Action.CANCEL_TRANSFER,
        transfer_step("cancel"),
        (A, A, F, H, H, H, H),
    ),
    "draft a purchase order for the branch": (
        Action.ORDER_STOCK,
        purchase_step("draft"),
        (A, A, F, H, H, H, H),
    ),
    "send a purchase order of the branch": (
        Action.ORDER_STOCK,
        purchase_step("send"),
        (A, A, F, H, H, H, H),
    ),
    "cancel a purchase order of the branch": (
        Action.ORDER_STOCK,
        purchase_step("cancel"),
        (A, A, F, H, H, H, H),
    ),
    "close a purchase order of the branch short": (
        Action.ORDER_STOCK,
        purchase_step("close"),
        (A, A, F, H, H, H, H),
    ),
    "receive goods against a purchase order of the branch": (
        Action.RECEIVE_STOCK,
        purchase_step("receive"),
        (A, A, A, H, H, H, H),
    ),
    "acknowledge alerts": (
        Action.ACKNOWLEDGE_ALERTS,
        acknowledge_alert,
        (A, A, F, H, H, H, H),
    ),
    "add staff of the branch": (Action.MANAGE_STAFF, add_staff, (A, A, F, H, H, U, U)),
    # A STAFF member manages no one, so is refused before any account is looked up.
    "deactivate staff of the branch": (
        Action.MANAGE_STAFF,
        deactivate_staff,
        (A, A, F, H, F, U, U),
    ),
    "reactivate staff of the branch": (
        Action.MANAGE_STAFF,
        reactivate_staff,
        (A, A, F, H, F, U, U),
    ),
    "appoint a manager of the branch": (None, appoint_manager, (A, F, F, H, H, U, U)),
    "edit the catalog and branches": (None, edit_catalog, (A, F, F, F, F, U, U)),
}


@pytest.fixture
def world(db) -> World:
    branch, other_branch = BranchFactory(), BranchFactory()
    product = ProductFactory()
    admin = AdminFactory()
    stock.receive_stock(actor=admin, branch_id=branch.pk, product_id=product.pk, quantity="100")
    users = {
        "admin": admin,
        "manager": MembershipFactory(branch=branch, role=Role.MANAGER).user,
        "staff": MembershipFactory(branch=branch, role=Role.STAFF).user,
        "other_manager": MembershipFactory(branch=other_branch, role=Role.MANAGER).user,
        "other_staff": MembershipFactory(branch=other_branch, role=Role.STAFF).user,
        "inactive": MembershipFactory(branch=branch, role=Role.MANAGER).user,
        "anonymous": None,
    }
    for user in users.values():
        if user is not None:
            _, user.token = services.sign_in_device(user=user, device="test device")
    # Switched off behind the services' back: its token and permissions are still stored, and
    # must be refused anyway.
    User.objects.filter(pk=users["inactive"].pk).update(is_active=False)
    users["inactive"].is_active = False
    former_staff = MembershipFactory(branch=branch, role=Role.STAFF, user__is_active=False).user
    return World(
        branch=branch,
        other_branch=other_branch,
        product=product,
        users=users,
        staff_member=MembershipFactory(branch=branch, role=Role.STAFF).user,
        former_staff=former_staff,
        newcomer=UserFactory(),
    )


CELLS = [
    pytest.param(action, who, expected[index], id=f"{action} | {who}")
    for (action, (_, _, expected)), (index, who) in itertools.product(
        MATRIX.items(), enumerate(ACTORS)
    )
]


@pytest.mark.parametrize(("action", "who", "expected"), CELLS)
def test_permission_matrix(world, action, who, expected):
    _, perform, _ = MATRIX[action]

    assert perform(world, who) == expected


def test_the_matrix_covers_every_action_of_the_permission_module():
    covered = {action for action, _, _ in MATRIX.values() if action is not None}

    assert covered == set(Action)
    assert all(len(expected) == len(ACTORS) for _, _, expected in MATRIX.values())


def test_refused_actions_change_nothing(world):
    before = StockLevel.objects.get(branch=world.branch).version

    for who in ("staff", "other_manager", "inactive"):
        with pytest.raises(DomainError):
            stock.issue_stock(
                actor=world.users[who],
                branch_id=world.branch.pk,
                product_id=world.product.pk,
                quantity="1",
            )

    assert StockLevel.objects.get(branch=world.branch).version == before
    assert StockMovement.objects.filter(branch=world.branch).count() == 1
