"""Who may do what, and where: the one place that answers it.

ADMIN (``is_superuser``) may do everything at every branch. Everyone else acts through
memberships: each role holds a fixed set of object permissions on the branch (django-guardian
rows, kept in step with memberships by ``accounts.services.sync_branch_permissions``).

Every HTML view, API endpoint, websocket consumer and the admin ask this module; none decides
for itself. A branch a user may not view does not exist for them (NotFound, answered 404);
a branch they may view but not act on is NotPermitted (answered 403).
"""

import enum
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from guardian.shortcuts import get_objects_for_user

from accounts.models import BranchPermission, Membership, Role, User
from branches.errors import UnknownBranch
from branches.models import Branch
from inventory_project.kernel.access import deny, is_admin
from inventory_project.kernel.access import require_admin as require_admin  # one definition
from inventory_project.kernel.people import who

logger = logging.getLogger(__name__)

AnyUser = User | AnonymousUser


class Action(enum.StrEnum):
    """What a user may do at a branch; each is a permission codename on Branch."""

    VIEW = "view_branch"  # stock, ledger, alerts and transfers of the branch
    RECEIVE_STOCK = "receive_stock"
    ISSUE_STOCK = "issue_stock"
    ADJUST_STOCK = "adjust_stock"
    COUNT_STOCK = "count_stock"
    SET_THRESHOLDS = "set_thresholds"
    REQUEST_TRANSFER = "request_transfer"  # into the branch
    DISPATCH_TRANSFER = "dispatch_transfer"  # approve and ship out of the branch
    RECEIVE_TRANSFER = "receive_transfer"  # into the branch
    CANCEL_TRANSFER = "cancel_transfer"  # at the requesting or the source branch
    ACKNOWLEDGE_ALERTS = "acknowledge_alerts"
    MANAGE_STAFF = "manage_staff"
    ORDER_STOCK = "order_stock"  # draft, send and cancel purchase orders; replenish

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Action.VIEW: gettext_lazy("see stock and its history"),
    Action.RECEIVE_STOCK: gettext_lazy("receive stock"),
    Action.ISSUE_STOCK: gettext_lazy("issue stock"),
    Action.ADJUST_STOCK: gettext_lazy("adjust stock"),
    Action.COUNT_STOCK: gettext_lazy("count stock"),
    Action.SET_THRESHOLDS: gettext_lazy("set low-stock thresholds"),
    Action.REQUEST_TRANSFER: gettext_lazy("request transfers"),
    Action.DISPATCH_TRANSFER: gettext_lazy("approve and ship transfers"),
    Action.RECEIVE_TRANSFER: gettext_lazy("receive transfers"),
    Action.CANCEL_TRANSFER: gettext_lazy("cancel transfers"),
    Action.ACKNOWLEDGE_ALERTS: gettext_lazy("acknowledge alerts"),
    Action.MANAGE_STAFF: gettext_lazy("manage staff"),
    Action.ORDER_STOCK: gettext_lazy("order stock from suppliers"),
}


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.MANAGER: frozenset(Action),
    Role.STAFF: frozenset({Action.VIEW, Action.RECEIVE_STOCK, Action.RECEIVE_TRANSFER}),
}


def visible_branches(user: AnyUser) -> QuerySet[Branch]:
    """The branches whose stock, ledger, alerts and transfers ``user`` may see."""
    return branches_where(user, Action.VIEW)


def visible_branch_ids(user: AnyUser) -> frozenset[str]:
    """The ids, as text, of the branches ``user`` may see: what a live-update socket follows."""
    return frozenset(str(pk) for pk in visible_branches(user).values_list("pk", flat=True))


def branches_where(user: AnyUser, action: Action) -> QuerySet[Branch]:
    """The branches where ``user`` may do ``action``."""
    if not (user.is_authenticated and user.is_active):
        return Branch.objects.none()
    return get_objects_for_user(
        user, action.value, klass=Branch, use_groups=False, accept_global_perms=False
    )


def actions_at(user: AnyUser, branch: Branch | uuid.UUID | str) -> frozenset[Action]:
    """Everything ``user`` may do at ``branch`` (empty when they may not even see it).

    Noted on the ``user`` object, which lives for one request: a service asking twice about
    one branch, or a view and the service it calls, cost one query between them.
    """
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    if user.is_superuser:
        return frozenset(Action)
    branch_id = branch.pk if isinstance(branch, Branch) else branch
    key = _as_uuid(branch_id)
    noted = _noted(user)
    if key is not None and key in noted:
        return noted[key]
    codenames = BranchPermission.objects.filter(user=user, content_object_id=branch_id).values_list(
        "permission__codename", flat=True
    )
    actions = frozenset(Action(codename) for codename in codenames if codename in Action)
    if key is not None:
        noted[key] = actions
    return actions


# What actions_at noted on a user object is forgotten when any membership changes in this
# process (a request that changes someone's role and then acts sees the new role), and
# after a few seconds, for user objects that outlive a request (a shell, a websocket, or a
# device's token remembered across its requests: see ``share_noted_rights``).
NOTED_SECONDS = 5.0
_NOTES = "_branch_actions_noted"
_generation = 0


class NotedRights:
    """What one person may do at the branches asked about so far, noted at ``since``."""

    __slots__ = ("actions", "generation", "since")

    def __init__(self) -> None:
        self.renew()

    def renew(self) -> None:
        self.generation = _generation
        self.since = time.monotonic()
        self.actions: dict[uuid.UUID, frozenset[Action]] = {}

    def current(self) -> bool:
        return self.generation == _generation and time.monotonic() - self.since <= NOTED_SECONDS


def forget_noted_rights() -> None:
    """Someone's branch permissions changed: what user objects noted is out of date."""
    global _generation
    _generation += 1


def share_noted_rights(user: User, notes: NotedRights) -> None:
    """Let ``user`` (a request's copy of someone) note into and read from ``notes``, kept
    by its caller across requests: the token check keeps them with a remembered token, which
    any change to its user's rights (``accounts.services``) makes every process forget."""
    setattr(user, _NOTES, notes)


def _noted(user: User) -> dict[uuid.UUID, frozenset[Action]]:
    notes = getattr(user, _NOTES, None)
    if notes is None:
        notes = NotedRights()
        setattr(user, _NOTES, notes)
    elif not notes.current():
        notes.renew()
    return notes.actions


def can(user: AnyUser, action: Action, branch: Branch | uuid.UUID | str) -> bool:
    """May ``user`` do ``action`` at ``branch``?"""
    return action in actions_at(user, branch)


@dataclass(frozen=True)
class Rights:
    """What one user may do at each of several branches, read at once: ``rights.at(branch)``."""

    everywhere: frozenset[Action]
    by_branch: Mapping[uuid.UUID, frozenset[Action]]

    def at(self, branch: Branch | uuid.UUID) -> frozenset[Action]:
        branch_id = branch.pk if isinstance(branch, Branch) else branch
        return self.everywhere | self.by_branch.get(branch_id, frozenset())


def rights(user: AnyUser, branches: Iterable[Branch | uuid.UUID] | None = None) -> Rights:
    """Everything ``user`` may do at each of ``branches`` (at every branch when None): one
    query however many branches or rows are asked about, none for ADMINs."""
    if not (user.is_authenticated and user.is_active):
        return Rights(frozenset(), {})
    if user.is_superuser:
        return Rights(frozenset(Action), {})
    rows = BranchPermission.objects.filter(user=user)
    if branches is not None:
        ids = {branch.pk if isinstance(branch, Branch) else branch for branch in branches}
        rows = rows.filter(content_object_id__in=ids)
    by_branch: dict[uuid.UUID, set[Action]] = defaultdict(set)
    for branch_id, codename in rows.values_list("content_object_id", "permission__codename"):
        if codename in Action:
            by_branch[branch_id].add(Action(codename))
    return Rights(frozenset(), {pk: frozenset(actions) for pk, actions in by_branch.items()})


def actions_anywhere(user: AnyUser) -> frozenset[Action]:
    """Everything ``user`` may do at one branch or another: one query of a few rows,
    however many branches they belong to; none for ADMINs."""
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    if user.is_superuser:
        return frozenset(Action)
    codenames = (
        BranchPermission.objects.filter(user=user)
        .order_by()
        .values_list("permission__codename", flat=True)
        .distinct()
    )
    return frozenset(Action(codename) for codename in codenames if codename in Action)


def check(user: AnyUser, action: Action, branch_id: uuid.UUID | str) -> None:
    """Raise unless ``user`` may do ``action`` at the branch: one query, none for ADMINs.

    UnknownBranch (a NotFound) when ``user`` may not see the branch, whether or not it exists
    (ADMINs see every branch; whoever acts on it finds out whether it exists);
    NotPermitted when they may see it but not do this.
    """
    if is_admin(user):
        return
    branch_uuid = _as_uuid(branch_id)
    actions = actions_at(user, branch_uuid) if branch_uuid else frozenset()
    if Action.VIEW not in actions:
        logger.warning(
            "Refused %s at unknown or hidden branch %s for %s", action, branch_id, who(user)
        )
        error = UnknownBranch(f"No branch with id {branch_id}.")
        error.logged = True
        raise error
    if action not in actions:
        code = Branch.objects.filter(pk=branch_uuid).values_list("code", flat=True).first()
        raise deny(
            user,
            _("You may not %(action)s at %(branch)s.")
            % {"action": action.label, "branch": code or branch_id},
        )


def require(user: AnyUser, action: Action, branch_id: uuid.UUID | str) -> Branch:
    """Like ``check``, and return the branch."""
    check(user, action, branch_id)
    branch_uuid = _as_uuid(branch_id)
    branch = Branch.objects.filter(pk=branch_uuid).first() if branch_uuid else None
    if branch is None:
        raise UnknownBranch(f"No branch with id {branch_id}.")
    return branch


def scope[M: Model](
    queryset: QuerySet[M], user: AnyUser, *, via: str | tuple[str, ...] = "branch"
) -> QuerySet[M]:
    """Narrow ``queryset`` of branch-owned rows to those ``user`` may see; ``via`` names the
    field that leads from a row to its branch, or several, any one of which may be visible
    (a transfer is seen from both of its branches)."""
    if is_admin(user):
        return queryset
    visible = visible_branches(user).values("pk")
    fields = (via,) if isinstance(via, str) else via
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__in": visible})
    return queryset.filter(condition)


# People ----------------------------------------------------------------------------------


def may_manage_membership(actor: AnyUser, *, branch: Branch, role: str) -> bool:
    """ADMINs manage every membership; a MANAGER manages STAFF memberships of their branch."""
    if is_admin(actor):
        return True
    return role == Role.STAFF and can(actor, Action.MANAGE_STAFF, branch)


def managed_memberships(actor: AnyUser) -> QuerySet[Membership]:
    """The roles ``actor`` may look up: all for ADMINs, else those at branches they manage.

    Raises NotPermitted for someone who manages no one.
    """
    if is_admin(actor):
        return Membership.objects.all()
    _require_managing_someone(actor)
    branches = branches_where(actor, Action.MANAGE_STAFF).values("pk")
    return Membership.objects.filter(branch__in=branches)


def managed_users(actor: AnyUser) -> QuerySet[User]:
    """The people ``actor`` may look up: everyone for ADMINs, else the members of the
    branches where ``actor`` manages staff.

    Raises NotPermitted for someone who manages no one.
    """
    if is_admin(actor):
        return User.objects.all()
    _require_managing_someone(actor)
    branches = branches_where(actor, Action.MANAGE_STAFF).values("pk")
    return User.objects.filter(pk__in=Membership.objects.filter(branch__in=branches).values("user"))


def _require_managing_someone(actor: AnyUser) -> None:
    if not branches_where(actor, Action.MANAGE_STAFF).exists():
        raise deny(actor, "You do not manage anyone's access.")


def may_change_account(actor: AnyUser, user: User) -> bool:
    """May ``actor`` deactivate or reactivate ``user``?

    A MANAGER may only for someone who is STAFF and nothing else, and only at branches the
    MANAGER manages: switching off a person who also works elsewhere would reach into
    another branch. No one switches off themselves.
    """
    if actor.pk == user.pk:
        return False
    if is_admin(actor):
        return True
    if user.is_superuser:
        return False
    roles = list(user.memberships.values_list("role", "branch_id"))
    if not roles or any(role != Role.STAFF for role, _ in roles):
        return False
    managed = set(branches_where(actor, Action.MANAGE_STAFF).values_list("pk", flat=True))
    return all(branch_id in managed for _, branch_id in roles)


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
