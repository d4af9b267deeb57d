"""The replenishment page: what the reader's branches need and where it should come from,
with a box ticked for each suggestion and one button that creates the drafts; then a page
listing the transfers and orders made.

The plan is the one ``transfers.replenishment`` computes; the button calls ``apply_plan``,
which computes it again before it writes, so a page left open while stock moved does not
order blindly: it is shown again, as it now stands, saying so.
"""

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from accounts import selectors as accounts_selectors
from branches.errors import UnknownBranch
from branches.models import Branch
from inventory_project.kernel.errors import Conflict, DomainError, NotFound, NotPermitted
from inventory_project.kernel.once import apply_once
from inventory_project.kernel.pages import render_page, wants_partial
from stock.views.refusals import refused, status_of
from transfers import purchase_selectors, replenishment
from transfers import selectors as transfer_selectors
from transfers.replenishment_forms import ApplyForm

# The result page lists what one click made; an address naming more is cut here.
MAX_LISTED = 200


def _scope(request: HttpRequest) -> tuple[list[Branch], Branch | None]:
    """The branches the reader replenishes and the one ``?branch=`` chose (None: all)."""
    branches = replenishment.scope(request.user)
    try:
        return branches, accounts_selectors.chosen_branch(branches, request.GET.get("branch"))
    except UnknownBranch as error:
        raise Http404(error.message) from None


@login_required
@require_http_methods(["GET", "POST"])
def replenishment_page(request: HttpRequest) -> HttpResponse:
    try:
        branches, branch = _scope(request)
    except NotPermitted as error:
        return refused(request, error)
    if request.method == "POST":
        return _apply(request, branches, branch)
    return _page(request, branches, branch, ApplyForm())


def _page(
    request: HttpRequest,
    branches: list[Branch],
    branch: Branch | None,
    form: ApplyForm,
    *,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    shown = [branch] if branch is not None else branches
    plan = replenishment.compute(replenishment.read_inputs(request.user, shown), shown)
    # A refused form keeps what was ticked; a fresh one ticks everything.
    ticked = set(form["choices"].value() or []) if form.is_bound else set(plan.keys)
    context = {
        "branches": branches,
        "branch": branch,
        "plan": plan,
        "form": form,
        "ticked": ticked,
        "refusal": refusal,
        "here": reverse("replenishment") + _query(branch=branch.code if branch else ""),
        # The filter swaps the plan alone: the heading naming the branch comes along.
        "title_oob": wants_partial(request),
    }
    return render_page(
        request,
        "replenishment/page.html",
        context,
        partial="replenishment/_plan.html",
        status=status,
    )


def _apply(request: HttpRequest, branches: list[Branch], branch: Branch | None) -> HttpResponse:
    user = request.user
    form = ApplyForm(request.POST)
    if not form.is_valid():
        return _page(request, branches, branch, form, status=400)

    def apply() -> dict:
        applied = replenishment.apply_plan(
            actor=user,
            branch_id=branch.pk if branch is not None else None,
            choices=form.cleaned_data["choices"],
        )
        return {
            "transfers": [str(transfer.pk) for transfer in applied.transfers],
            "orders": [str(order.pk) for order in applied.orders],
        }

    scope = f"replenishment:{branch.pk if branch else 'all'}"
    try:
        result, replayed = apply_once(user, form.cleaned_data["once"], scope, apply)
    except NotFound as error:
        raise Http404(error.message) from None
    except NotPermitted as error:
        return refused(request, error)
    except Conflict as error:
        # Stock moved since the page was drawn: show the plan as it is now, all ticked.
        return _page(request, branches, branch, ApplyForm(), refusal=error.message, status=409)
    except DomainError as error:
        form.add_error(None, error.message)
        return _page(request, branches, branch, form, status=status_of(error))
    made = len(result["transfers"]) + len(result["orders"])
    done = ngettext("%(count)s draft was created.", "%(count)s drafts were created.", made) % {
        "count": made
    }
    if replayed:
        done = gettext("Already done, nothing more was recorded: %(done)s") % {"done": done}
    messages.success(request, done)
    return redirect(
        reverse("replenishment-done")
        + "?"
        + urlencode(
            [("transfer", pk) for pk in result["transfers"]]
            + [("order", pk) for pk in result["orders"]]
        )
    )


@login_required
@require_GET
def replenishment_done(request: HttpRequest) -> HttpResponse:
    """The transfers and orders one click made, as far as the reader may see them."""
    try:
        replenishment.scope(request.user)
    except NotPermitted as error:
        return refused(request, error)
    transfer_ids = _ids(request.GET.getlist("transfer"))
    order_ids = _ids(request.GET.getlist("order"))
    transfers = (
        list(transfer_selectors.transfer_list(request.user).filter(pk__in=transfer_ids))
        if transfer_ids
        else []
    )
    orders = (
        list(
            purchase_selectors.visible_orders(request.user)
            .filter(pk__in=order_ids)
            .select_related("branch", "supplier")
            .order_by("branch__code", "supplier__code")
        )
        if order_ids
        else []
    )
    transfers.sort(key=lambda t: (t.to_branch.code, t.from_branch.code))
    context = {"transfers": transfers, "orders": orders}
    return render_page(request, "replenishment/done.html", context)


def _ids(values: list[str]) -> list[uuid.UUID]:
    found = []
    for value in values[:MAX_LISTED]:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            continue  # a mangled address lists what it still names
    return found


def _query(**params: str) -> str:
    tidy = {name: value for name, value in params.items() if value}
    return "?" + urlencode(tidy) if tidy else ""
