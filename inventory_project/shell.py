"""The page shell every template sees (``shell``): the branches the user may view, the one the
URL chose (``?branch=<code>``, kept in every link rather than in hidden state), what the
user may do there, and the number of open alerts for the navigation's badge.

Lazy: a partial that uses none of it costs no query.
"""

from functools import cached_property

from django.http import Http404, HttpRequest
from django.utils.http import urlencode

from accounts import permissions, selectors
from accounts.permissions import Action
from alerts.models import UNRESOLVED, LowStockAlert
from branches.errors import UnknownBranch
from branches.models import Branch


class Shell:
    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.user = request.user

    @cached_property
    def branches(self) -> list[Branch]:
        return selectors.viewable_branches(self.user)

    @cached_property
    def branch(self) -> Branch | None:
        """The chosen branch; None for all of the user's branches. The shell never refuses
        a page: one naming a branch the user may not view answers 404 itself
        (``chosen_branch``), before the shell is drawn."""
        try:
            return selectors.chosen_branch(self.branches, self.request.GET.get("branch"))
        except UnknownBranch:
            return None

    @property
    def several(self) -> bool:
        return len(self.branches) > 1

    @property
    def branch_query(self) -> str:
        """``?branch=<code>`` to keep the choice in a link, or nothing."""
        return "?" + urlencode({"branch": self.branch.code}) if self.branch else ""

    @cached_property
    def actions(self) -> frozenset[Action]:
        """What the user may do at the chosen branch, or at any of theirs."""
        if self.branch is not None:
            # Noted on the user: the view and the services it calls ask the same.
            return permissions.actions_at(self.user, self.branch)
        return permissions.actions_anywhere(self.user)

    @property
    def may_receive(self) -> bool:
        return Action.RECEIVE_STOCK in self.actions

    @property
    def may_issue(self) -> bool:
        return Action.ISSUE_STOCK in self.actions

    @property
    def may_order(self) -> bool:
        """Managers and ADMINs order stock: suppliers and replenishment are theirs."""
        return Action.ORDER_STOCK in self.actions

    @property
    def may_audit(self) -> bool:
        """Managers and ADMINs review the ledger (the audit page)."""
        return Action.MANAGE_STAFF in self.actions

    @cached_property
    def open_alerts(self) -> int:
        alerts = LowStockAlert.objects.filter(status__in=UNRESOLVED)
        if self.branch is not None:
            return alerts.filter(branch=self.branch).count()
        return permissions.scope(alerts, self.user).count()


def chosen_branch(request: HttpRequest, branches: list[Branch] | None = None) -> Branch | None:
    """The branch ``?branch=`` chooses among those the user may view (404 for any other)."""
    if branches is None:
        branches = selectors.viewable_branches(request.user)
    try:
        return selectors.chosen_branch(branches, request.GET.get("branch"))
    except UnknownBranch as error:
        raise Http404(error.message) from None


def shell_of(request: HttpRequest) -> Shell:
    """The request's shell, made once: a view and its template share what it read."""
    if not hasattr(request, "_shell"):
        request._shell = Shell(request)
    return request._shell


def shell(request: HttpRequest) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"shell": shell_of(request)}
