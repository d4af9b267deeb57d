from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import ApiToken, BranchPermission, Membership, Role, User
from accounts.permissions import Action, AnyUser
from branches.errors import UnknownBranch
from branches.models import Branch


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
