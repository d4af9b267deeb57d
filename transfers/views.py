"""The transfer pages: the list of transfers into and out of the user's branches, and one
transfer's page with its lines, its history and a button for each step the user may take
now.

The buttons come from ``transfers.workflow`` through ``selectors.available_steps``, the list
the services check and the API answers, so the page never offers a step the service would
refuse on rights or state. A step someone else took first is still refused by the service;
the page then shows why, with the transfer as it is now.
"""

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from accounts import selectors as accounts_selectors
from accounts.models import User
from branches.errors import UnknownBranch
from branches.models import Branch
from inventory_project.kernel.errors import Conflict, DomainError, NotFound, NotPermitted
from inventory_project.kernel.once import OnceForm, apply_once
from inventory_project.kernel.pages import render_page
from stock.models import StockLevel
from transfers import selectors, services
from transfers.errors import UnknownTransfer
from transfers.models import Transfer, TransferStatus

PER_PAGE = 50
# Offset pages: nobody pages this far by hand, and it bounds a typed address's scan.
MAX_PAGE = 200


# The list ------------------------------------------------------------------------------------


class TransferListForm(forms.Form):
    """The list's query parameters; a value that does not parse is shown beside its field
    and left out of the filter."""

    direction = forms.ChoiceField(
        label=_("Direction"),
        required=False,
        choices=[("", _("In and out")), ("in", _("Coming in")), ("out", _("Going out"))],
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *TransferStatus.choices],
    )
    start = forms.DateField(label=_("Started from"), required=False)
    end = forms.DateField(label=_("Started up to"), required=False)
    page = forms.CharField(required=False)

    def clean_page(self) -> int:
        page = self.cleaned_data["page"]
        number = int(page) if page.isascii() and page.isdigit() else 1
        return min(max(number, 1), MAX_PAGE)

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", _("This is before the first day asked for."))
        return cleaned

    def value(self, name: str) -> Any:
        """The field's clean value, or None when it is missing or wrong."""
        return None if name in self.errors else self.cleaned_data.get(name)


@login_required
@require_GET
def transfer_list(request: HttpRequest) -> HttpResponse:
    branches = accounts_selectors.viewable_branches(request.user)
    try:
        branch = accounts_selectors.chosen_branch(branches, request.GET.get("branch"))
    except UnknownBranch as error:
        raise Http404(error.message) from None
    form = TransferListForm(request.GET)
    form.is_valid()
    transfers = _filtered(selectors.transfer_list(request.user), form, branch, branches)
    number = form.value("page") or 1
    rows = list(transfers[(number - 1) * PER_PAGE : number * PER_PAGE + 1])
    has_next = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    here = reverse("transfers")
    state = {
        "branch": request.GET.get("branch", "") if branch else "",
        "direction": form.value("direction") or "",
        "status": form.value("status") or "",
        "start": form.value("start") or "",
        "end": form.value("end") or "",
    }
    context = {
        "form": form,
        "branch": branch,
        "rows": [_row(transfer, branch) for transfer in rows],
        "page_number": number,
        "here": here + _query(**state, page=number),
        "state_query": _query(**state),
        "previous_query": here + _query(**state, page=number - 1) if number > 1 else "",
        "next_query": here + _query(**state, page=number + 1) if has_next else "",
    }
    # Paging links push their own address; a live refresh keeps it, adding no history.
    return render_page(
        request, "transfers/list.html", context, partial="transfers/_list_results.html"
    )


def _filtered(
    transfers: QuerySet[Transfer],
    form: TransferListForm,
    branch: Branch | None,
    branches: list[Branch],
) -> QuerySet[Transfer]:
    # Direction is relative to the chosen branch, else to any of the user's branches.
    ids = [branch.pk] if branch is not None else [each.pk for each in branches]
    if branch is not None:
        transfers = transfers.filter(Q(from_branch_id=branch.pk) | Q(to_branch_id=branch.pk))
    direction = form.value("direction")
    if direction == "in":
        transfers = transfers.filter(to_branch_id__in=ids)
    elif direction == "out":
        transfers = transfers.filter(from_branch_id__in=ids)
    if form.value("status"):
        transfers = transfers.filter(status=form.value("status"))
    if form.value("start"):
        transfers = transfers.filter(created_at__gte=_day_start(form.value("start")))
    if form.value("end"):
        next_day = form.value("end") + datetime.timedelta(days=1)
        transfers = transfers.filter(created_at__lt=_day_start(next_day))
    return transfers


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _row(transfer: Transfer, branch: Branch | None) -> dict[str, Any]:
    direction = ""
    if branch is not None:
        direction = "in" if transfer.to_branch_id == branch.pk else "out"
    return {"transfer": transfer, "direction": direction}


def _query(**params: object) -> str:
    """``?direction=…&status=…`` leaving out what is empty and the first page."""
    if params.get("page") == 1:
        params.pop("page")
    tidy = {name: value for name, value in params.items() if value}
    return "?" + urlencode(tidy) if tidy else ""


# One transfer --------------------------------------------------------------------------------


class StepForm(OnceForm):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


@dataclass(frozen=True)
class PageStep:
    """A step the page offers as a button: what it says and how it calls its service."""

    name: str  # the workflow's name, as ``available_steps`` lists it
    label: Any
    done: Any
    apply: Callable[[User, Transfer, StepForm], Transfer]
    reason: bool = False  # shows a reason field
    reason_required: bool = False
    danger: bool = False


def _receive_all(actor: User, transfer: Transfer, form: StepForm) -> Transfer:
    outstanding = {
        line.product_id: line.outstanding
        for line in selectors.transfer_detail(actor, transfer.pk).lines.all()
        if line.outstanding > 0
    }
    return services.receive_transfer(actor=actor, transfer_id=transfer.pk, quantities=outstanding)


PAGE_STEPS = {
    step.name: step
    for step in (
        PageStep(
            "approve",
            label=_("Approve as requested"),
            done=_("Transfer %(reference)s is approved."),
            apply=lambda actor, transfer, form: services.approve_transfer(
                actor=actor, transfer_id=transfer.pk
            ),
        ),
        PageStep(
            "ship",
            label=_("Ship"),
            done=_("Transfer %(reference)s is shipped."),
            apply=lambda actor, transfer, form: services.ship_transfer(
                actor=actor, transfer_id=transfer.pk
            ),
        ),
        PageStep(
            "receive",
            label=_("Receive everything outstanding"),
            done=_("Transfer %(reference)s: everything outstanding is received."),
            apply=_receive_all,
        ),
        PageStep(
            "cancel",
            label=_("Cancel the transfer"),
            done=_("Transfer %(reference)s is cancelled."),
            apply=lambda actor, transfer, form: services.cancel_transfer(
                actor=actor, transfer_id=transfer.pk, reason=form.cleaned_data["reason"]
            ),
            reason=True,
            danger=True,
        ),
        PageStep(
            "reject",
            label=_("Reject the request"),
            done=_("Transfer %(reference)s is rejected."),
            apply=lambda actor, transfer, form: services.reject_transfer(
                actor=actor, transfer_id=transfer.pk, reason=form.cleaned_data["reason"]
            ),
            reason=True,
            reason_required=True,
            danger=True,
        ),
    )
}


@login_required
@require_GET
def transfer_detail(request: HttpRequest, transfer_id: uuid.UUID) -> HttpResponse:
    transfer = _visible(request.user, transfer_id)
    return _detail_page(request, transfer)


@login_required
@require_POST
def transfer_step(request: HttpRequest, transfer_id: uuid.UUID, step: str) -> HttpResponse:
    """One step's button, posted: the step's service, once however often it is sent."""
    page_step = PAGE_STEPS.get(step)
    if page_step is None:
        raise Http404(f"No step {step[:20]!r} on this page.")
    transfer = _visible(request.user, transfer_id)
    form = StepForm(request.POST, prefix=step)
    if not form.is_valid():
        return _detail_page(request, transfer, failed=(step, form), status=400)
    user = request.user

    def apply() -> dict:
        done = page_step.apply(user, transfer, form)
        return {"status": done.status}

    try:
        _result, replayed = apply_once(
            user, form.cleaned_data["once"], f"transfer:{step}:{transfer.pk}", apply
        )
    except NotFound as error:
        raise Http404(error.message) from None
    except DomainError as error:
        if error.field == "reason":
            form.add_error("reason", error.message)
        else:
            form.add_error(None, error.message)
        return _detail_page(
            request, _visible(user, transfer.pk), failed=(step, form), status=_status(error)
        )
    done = page_step.done % {"reference": transfer.reference}
    if replayed:
        done = gettext("Already done, nothing more was recorded: %(done)s") % {"done": done}
    messages.success(request, done)
    return redirect("transfer", transfer.pk)


def _status(error: DomainError) -> int:
    if isinstance(error, NotPermitted):
        return 403
    if isinstance(error, Conflict):
        return 409
    return 400


def _visible(user: User, transfer_id: uuid.UUID) -> Transfer:
    try:
        return selectors.transfer_detail(user, transfer_id)
    except UnknownTransfer as error:
        raise Http404(error.message) from None


def _detail_page(
    request: HttpRequest,
    transfer: Transfer,
    *,
    failed: tuple[str, StepForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    available = selectors.available_steps(user, transfer)
    buttons = []
    for name in available:
        page_step = PAGE_STEPS.get(name)
        if page_step is None:
            continue  # a step needing a form of its own (close short)
        form = failed[1] if failed is not None and failed[0] == name else StepForm(prefix=name)
        buttons.append({"step": page_step, "form": form})
    # Why a step was refused, at the top: a step no longer on offer has no form to show it.
    refusal = []
    if failed is not None:
        refusal = [str(error) for error in failed[1].non_field_errors()]
        if failed[0] not in available:
            errors = failed[1].errors
            refusal += [str(e) for name, each in errors.items() if name != "__all__" for e in each]
    lines = list(transfer.lines.all())
    levels = _item_pages(transfer, lines, accounts_selectors.viewable_branches(user))
    context = {
        "transfer": transfer,
        "lines": [
            {
                "line": line,
                "level": levels.get(line.product_id),
                "outstanding": line.outstanding,
                "shortfall": line.shortfall,
            }
            for line in lines
        ],
        "events": list(transfer.events.all()),
        "buttons": buttons,
        "refusal": refusal,
    }
    return render_page(
        request, "transfers/detail.html", context, partial="transfers/_detail.html", status=status
    )


def _item_pages(
    transfer: Transfer, lines: list, branches: list[Branch]
) -> dict[uuid.UUID, uuid.UUID]:
    """Each line's product's item page at the end of the transfer the user may view (the
    destination first): one query whatever the number of lines."""
    viewable = {branch.pk for branch in branches}
    ends = [b for b in (transfer.to_branch_id, transfer.from_branch_id) if b in viewable]
    if not ends or not lines:
        return {}
    found: dict[uuid.UUID, uuid.UUID] = {}
    levels = StockLevel.objects.filter(
        branch_id__in=ends, product_id__in=[line.product_id for line in lines]
    ).values_list("product_id", "branch_id", "pk")
    for product_id, _branch, pk in sorted(levels, key=lambda row: ends.index(row[1])):
        found.setdefault(product_id, pk)
    return found
