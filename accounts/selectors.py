import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.db.models import F, Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import ApiToken, BranchPermission, Membership, Role, User
from accounts.permissions import Action, AnyUser
from branches.errors import UnknownBranch
from branches.models import Branch
from inventory_project.kernel.errors import NotFound


@dataclass(frozen=True)
class BranchAccess:
    """A branch a user may see, their role there (None for ADMINs) and what they may do."""

    branch: Branch
    role: str | None
    actions: list[str]  # in the order Action lists them

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role else ""

    @property
    def action_labels(self) -> list[str]:
        return [Action(action).label for action in self.actions]


def branch_access(user: AnyUser) -> list[BranchAccess]:
    """Every branch ``user`` may see, in code order, with their role and actions (2 queries)."""
    if permissions.is_admin(user):
        everything = list(Action)
        return [BranchAccess(branch, None, everything) for branch in Branch.objects.all()]
    if not (user.is_authenticated and user.is_active):
        return []
    granted = defaultdict(list)
    for branch_id, codename in BranchPermission.objects.filter(user=user).values_list(
        "content_object_id", "permission__codename"
    ):
        granted[branch_id].append(codename)
    memberships = Membership.objects.filter(user=user).select_related("branch")
    return sorted(
        (
            BranchAccess(m.branch, m.role, [a for a in Action if a in granted[m.branch_id]])
            for m in memberships
            if Action.VIEW in granted[m.branch_id]
        ),
        key=lambda access: access.branch.code,
    )


def active_api_tokens(user: User) -> list[ApiToken]:
    """The user's API tokens that still work, newest first."""
    return list(
        ApiToken.objects.filter(user=user).filter(
            Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
        )
    )


def viewable_branches(user: AnyUser) -> list[Branch]:
    """The branches ``user`` may view, by code (one query)."""
    return list(permissions.visible_branches(user).order_by("code"))


def chosen_branch(branches: list[Branch], code: str | None) -> Branch | None:
    """The branch a page's ``?branch=<code>`` names among ``branches`` (those the user may
    view); None for "all my branches" (no code, or ``all``), and the only one for someone
    with one branch. UnknownBranch for a code they may not view, as for one that does not
    exist."""
    if not code or code == "all":
        return branches[0] if len(branches) == 1 else None
    for branch in branches:
        if branch.code.casefold() == code.casefold():
            return branch
    raise UnknownBranch(_("No branch %(code)s.") % {"code": code[:50]})


# People ----------------------------------------------------------------------------------


def managing_branches(user: AnyUser) -> list[Branch]:
    """The branches where ``user`` manages staff (every branch for ADMINs), by code: where
    they may invite and give roles. One query."""
    if permissions.is_admin(user):
        return list(Branch.objects.order_by("code"))
    return list(permissions.branches_where(user, Action.MANAGE_STAFF).order_by("code"))


PEOPLE_ORDER = {
    "name": (Lower("full_name"), Lower("email")),
    "email": (Lower("email"),),
    "-last_login": (F("last_login").desc(nulls_last=True), Lower("email")),
    "last_login": (F("last_login").asc(nulls_first=True), Lower("email")),
}


def people(
    actor: AnyUser,
    *,
    text: str | None = None,
    branch: Branch | None = None,
    role: str | None = None,
    status: str | None = None,
    sort: str | None = None,
) -> QuerySet[User]:
    """The people ``actor`` manages (NotPermitted for someone who manages no one), searched
    by name or e-mail address, narrowed to those with a role at ``branch`` and ``role``
    (``ADMIN``: the administrators), ``status`` ``active``, ``invited`` (no password chosen
    yet) or ``deactivated``; each with the roles ``actor`` may see prefetched, branch
    and all (two queries however many rows are read)."""
    users = permissions.managed_users(actor)
    roles = permissions.managed_memberships(actor)
    if text:
        users = users.filter(Q(full_name__icontains=text) | Q(email__icontains=text))
    if role == "ADMIN":
        users = users.filter(is_superuser=True)
        if branch is not None:
            users = users.filter(pk__in=roles.filter(branch=branch).values("user"))
    elif branch is not None or role:
        narrowed = roles
        if branch is not None:
            narrowed = narrowed.filter(branch=branch)
        if role:
            narrowed = narrowed.filter(role=role)
        users = users.filter(pk__in=narrowed.values("user"))
    if status == "active":
        users = users.filter(is_active=True)
    elif status == "deactivated":
        users = users.filter(is_active=False)
    elif status == "invited":
        users = users.filter(is_active=True, password__startswith=UNUSABLE_PASSWORD_PREFIX)
    shown = roles.select_related("branch").order_by("branch__code")
    return users.order_by(
        *PEOPLE_ORDER.get(sort or "name", PEOPLE_ORDER["name"]), "pk"
    ).prefetch_related(Prefetch("memberships", queryset=shown, to_attr="shown_memberships"))


def person(actor: AnyUser, user_id: uuid.UUID | str) -> User:
    """One person ``actor`` manages: NotFound for anyone else, whether or not they exist;
    NotPermitted for someone who manages no one."""
    try:
        return permissions.managed_users(actor).get(pk=user_id)
    except (User.DoesNotExist, ValidationError, ValueError):
        raise NotFound(_("No such person.")) from None


@dataclass(frozen=True)
class PersonRole:
    """One of a person's roles as ``actor`` sees it, and whether they may change it."""

    membership: Membership
    may_manage: bool
    may_change_role: bool


def person_roles(actor: AnyUser, user: User) -> tuple[list[PersonRole], int]:
    """``user``'s roles at the branches ``actor`` manages, by branch code, each with
    whether ``actor`` may remove it or change its role; and how many roles ``user`` holds
    elsewhere. Three queries, however many roles."""
    admin = permissions.is_admin(actor)
    visible = list(
        permissions.managed_memberships(actor)
        .filter(user=user)
        .select_related("branch")
        .order_by("branch__code")
    )
    rights = permissions.rights(actor, [membership.branch_id for membership in visible])
    rows = []
    for membership in visible:
        manages = Action.MANAGE_STAFF in rights.at(membership.branch_id)
        may_manage = admin or (manages and membership.role == Role.STAFF)
        rows.append(PersonRole(membership, may_manage=may_manage, may_change_role=admin))
    elsewhere = Membership.objects.filter(user=user).count() - len(visible)
    return rows, elsewhere
