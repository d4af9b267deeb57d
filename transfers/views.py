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

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import permissions
from accounts import selectors as accounts_selectors
from accounts.models import User
from accounts.permissions import Action
from branches import selectors as branch_selectors
from branches.errors import UnknownBranch
from branches.models import Branch
from inventory_project.kernel.errors import Conflict, DomainError, NotFound, NotPermitted
from inventory_project.kernel.once import OnceForm, apply_once, new_key
from inventory_project.kernel.pages import render_page
from stock.models import StockLevel
from stock.views.refusals import refused
from transfers import selectors, services, workflow
from transfers.errors import IllegalTransition, UnknownTransfer
from transfers.forms import (
    BLANK_LINES,
    REQUEST,
    SEND,
    CloseForm,
    Line,
    LineForm,
    ReceiveForm,
    StepForm,
    TransferForm,
    check_lines,
    line_formset,
    read_lines,
    warning,
)
from transfers.models import Transfer, TransferStatus
from transfers.services import MAX_LINES

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
        "may_start": bool(
            {Action.REQUEST_TRANSFER, Action.DISPATCH_TRANSFER}
            & permissions.actions_anywhere(request.user)
        ),
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


@dataclass(frozen=True)
class PageStep:
    """A step the page offers: what its button says, its form and how it calls its
    service."""

    name: str  # the workflow's name, as ``available_steps`` lists it
    label: Any
    done: Any
    apply: Callable[[User, Transfer, Any], Transfer]
    reason: bool = False  # shows a reason field
    reason_required: bool = False
    danger: bool = False
    template: str = "transfers/_step_button.html"
    form: Callable[..., OnceForm] = StepForm
    # The service's names of inputs, as the form names them.
    fields: Callable[[str], str] = lambda name: name

    @property
    def wide(self) -> bool:
        """A form of its own (lines, a reason to choose) rather than a button in a row."""
        return self.template != "transfers/_step_button.html"

    def make_form(self, transfer: Transfer, data: Any = None) -> OnceForm:
        if self.form is ReceiveForm:
            return ReceiveForm(data, prefix=self.name, lines=list(transfer.lines.all()))
        return self.form(data, prefix=self.name)


def _receive(actor: User, transfer: Transfer, form: ReceiveForm) -> Transfer:
    quantities = form.quantities()
    if not quantities:
        # Nothing outstanding to offer: the transfer was no longer under way when read.
        raise IllegalTransition(f"Transfer {transfer.reference} is no longer under way.")
    return services.receive_transfer(
        actor=actor,
        transfer_id=transfer.pk,
        quantities=quantities,
        note=form.cleaned_data["note"],
    )


def _close(actor: User, transfer: Transfer, form: CloseForm) -> Transfer:
    return services.close_transfer(
        actor=actor,
        transfer_id=transfer.pk,
        reason=form.cleaned_data["reason"],
        note=form.cleaned_data["note"],
    )


def _received(transfer: Transfer) -> Any:
    if transfer.status == TransferStatus.RECEIVED:
        return _("Transfer %(reference)s is received in full.")
    return _("Transfer %(reference)s: what arrived is received; the rest is still on its way.")


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
            label=_("Receive these quantities"),
            done=_received,
            apply=_receive,
            template="transfers/_step_receive.html",
            form=ReceiveForm,
            fields=lambda name: name.removeprefix("quantities."),
        ),
        PageStep(
            "close",
            label=_("Close short"),
            done=_("Transfer %(reference)s is closed; what did not arrive is its shortfall."),
            apply=_close,
            danger=True,
            template="transfers/_step_close.html",
            form=CloseForm,
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
    """One step's form, posted: the step's service, once however often it is sent."""
    page_step = PAGE_STEPS.get(step)
    if page_step is None:
        raise Http404(f"No step {step[:20]!r} on this page.")
    user = request.user
    transfer = _visible(user, transfer_id)
    form = page_step.make_form(transfer, request.POST)
    if not form.is_valid():
        if not workflow.legal(STEP_ENTRIES[step], transfer):
            # The form was drawn for a state someone else has moved the transfer on from.
            moved_on = _moved_on(transfer, STEP_ENTRIES[step])
            return _detail_page(request, transfer, refusal=[moved_on], status=409)
        return _detail_page(request, transfer, failed=(step, form), status=400)

    def apply() -> dict:
        done = page_step.apply(user, transfer, form)
        return {"status": done.status}

    try:
        result, replayed = apply_once(
            user, form.cleaned_data["once"], f"transfer:{step}:{transfer.pk}", apply
        )
    except NotFound as error:
        raise Http404(error.message) from None
    except IllegalTransition:
        fresh = _visible(user, transfer.pk)
        moved_on = _moved_on(fresh, STEP_ENTRIES[step])
        return _detail_page(request, fresh, refusal=[moved_on], status=409)
    except DomainError as error:
        name = page_step.fields(error.field) if error.field else None
        form.add_error(name if name in form.fields else None, error.message)
        return _detail_page(
            request, _visible(user, transfer.pk), failed=(step, form), status=_status(error)
        )
    done = page_step.done
    if callable(done):
        transfer.status = result["status"]
        done = done(transfer)
    done = done % {"reference": transfer.reference}
    if replayed:
        done = gettext("Already done, nothing more was recorded: %(done)s") % {"done": done}
    messages.success(request, done)
    return redirect("transfer", transfer.pk)


STEP_ENTRIES = {entry.name: entry for entry in workflow.STEPS.values()}


def _moved_on(transfer: Transfer, entry: workflow.Step) -> str:
    return gettext(
        "Someone else acted first: transfer %(reference)s is %(status)s now, so it cannot be "
        "%(done)s. Here it is as it stands."
    ) % {
        "reference": transfer.reference,
        "status": transfer.get_status_display(),
        "done": entry.step.label,
    }


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
    failed: tuple[str, OnceForm] | None = None,
    refusal: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    available = selectors.available_steps(user, transfer)
    steps = []
    for name in available:
        page_step = PAGE_STEPS.get(name)
        if page_step is None:
            continue
        form = failed[1] if failed is not None and failed[0] == name else None
        steps.append({"step": page_step, "form": form or page_step.make_form(transfer)})
    # Why a step was refused, at the top: a step no longer on offer has no form to show it.
    refusal = list(refusal or [])
    if failed is not None:
        refusal += [str(error) for error in failed[1].non_field_errors()]
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
        "buttons": steps,
        "refusal": refusal,
        # Forms drawn for this state of the transfer: a live refresh that finds it unchanged
        # keeps them as they are being filled in (hx-preserve by this id).
        "version": transfer.updated_at.strftime("%s%f"),
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


# Starting a transfer -------------------------------------------------------------------------


@dataclass
class Starting:
    """What the create page needs of its reader, read once per request: the directory of
    active branches and where the reader may request into or send out of."""

    branches: list[Branch]
    may_request: set[uuid.UUID]
    may_send: set[uuid.UUID]

    @classmethod
    def of(cls, user: User) -> "Starting":
        branches = list(branch_selectors.directory())
        rights = permissions.rights(user)
        return cls(
            branches=branches,
            may_request={b.pk for b in branches if Action.REQUEST_TRANSFER in rights.at(b)},
            may_send={b.pk for b in branches if Action.DISPATCH_TRANSFER in rights.at(b)},
        )

    def form(self, data: Any = None, *, initial: dict | None = None) -> TransferForm:
        return TransferForm(
            data,
            initial=initial,
            branches=self.branches,
            may_request=self.may_request,
            may_send=self.may_send,
        )

    def own(self, kind: str, chosen: Branch | None) -> str:
        """The reader's end of a new ``kind`` transfer: the branch the address chose when
        they may, else the first they may."""
        allowed = self.may_request if kind == REQUEST else self.may_send
        if chosen is not None and chosen.pk in allowed:
            return chosen.code
        return next((b.code for b in self.branches if b.pk in allowed), "")


NEW_REFUSED = _("Only managers request or send transfers, at their own branches.")


@login_required
@require_http_methods(["GET", "POST"])
def transfer_new(request: HttpRequest) -> HttpResponse:
    """Start a transfer: a request (the reader's branch receives) or a send (it ships),
    with lines of products and quantities. GET takes ``kind``, ``from``, ``to``,
    ``product`` and ``quantity`` to fill the form in (the reports' reorder suggestions
    link here)."""
    user = request.user
    starting = Starting.of(user)
    if not starting.may_request and not starting.may_send:
        return refused(request, NotPermitted(str(NEW_REFUSED)))
    if request.method == "GET":
        return _new_page(request, starting, *_prefilled(request, starting))
    form = starting.form(request.POST)
    formset = line_formset(request.POST)
    action = request.POST.get("action")
    if action in ("add", "switch"):
        redrawn = _redrawn(starting, form, formset, add=action == "add")
        return _new_page(request, starting, *redrawn)
    form.is_valid()
    formset.is_valid()
    lines = _read(user, form, formset)
    filled = check_lines(formset, lines)
    if not form.is_valid() or not formset.is_valid() or formset.non_form_errors():
        # A branch where the reader may not start this transfer is refused, in words beside it.
        status = 403 if form.refused else 400
        return _new_page(request, starting, form, formset, lines=lines, status=status)
    over = [line for line in filled if line.over]
    kind = form.cleaned_data["kind"]
    if kind == SEND and over and not request.POST.get("confirm"):
        # Warned before sending; confirmed, the ship step is where a shortage is refused.
        return _new_page(request, starting, form, formset, lines=lines, confirm=True)
    return _start(request, starting, form, formset, lines, filled)


def _start(request, starting, form, formset, lines, filled) -> HttpResponse:
    user = request.user
    kind = form.cleaned_data["kind"]
    start = services.request_transfer if kind == REQUEST else services.send_transfer
    source, destination = form.branch("from"), form.branch("to")
    items = [
        services.TransferItem(product_id=line.product.pk, quantity=line.quantity) for line in filled
    ]

    def apply() -> dict:
        transfer = start(
            actor=user,
            from_branch_id=source.pk,
            to_branch_id=destination.pk,
            items=items,
            note=form.cleaned_data["note"],
        )
        return {"transfer": str(transfer.pk), "reference": transfer.reference}

    try:
        result, replayed = apply_once(user, form.cleaned_data["once"], "transfer:new", apply)
    except DomainError as error:
        _show_start_error(form, formset, filled, error)
        return _new_page(request, starting, form, formset, lines=lines, status=_status(error))
    if replayed:
        done = gettext("Already done, nothing more was recorded: transfer %(reference)s.")
    elif kind == REQUEST:
        done = gettext("Transfer %(reference)s is requested; %(code)s is asked to approve it.")
    else:
        done = gettext("Transfer %(reference)s is approved and ready to ship from %(code)s.")
    messages.success(request, done % {"reference": result["reference"], "code": source.code})
    return redirect("transfer", result["transfer"])


def _show_start_error(form, formset, filled, error: DomainError) -> None:
    """A service's refusal beside the field it names (``lines.2.quantity`` is the third
    filled-in line's), else at the top of the form."""
    field = error.field or ""
    parts = field.split(".")
    if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
        index = int(parts[1])
        if index < len(filled) and parts[2] in ("product", "quantity"):
            filled[index].form.add_error(parts[2], error.message)
            return
    names = {"from_branch": "from", "to_branch": "to", "note": "note"}
    name = names.get(field)
    form.add_error(name, error.message)


def _read(user: User, form: TransferForm, formset: Any) -> list[Line]:
    """The rows with the products they name and what the source holds of each, where the
    reader may see it: three queries however many rows."""
    codes = [each.typed("product") for each in formset.forms]
    lines = read_lines(formset, selectors.products_by_code(codes))
    source = form.branch("from")
    products = [line.product.pk for line in lines if line.product is not None]
    held = selectors.on_hand(user, source, products)
    if held is not None:
        for line in lines:
            if line.product is not None:
                line.held = held[line.product.pk]
    return lines


def _prefilled(request: HttpRequest, starting: Starting) -> tuple[TransferForm, Any]:
    """The form as the address fills it in, else with the reader's branch at their end."""
    params = request.GET
    kind = params.get("kind", "")
    if kind not in (REQUEST, SEND):
        kind = REQUEST if starting.may_request else SEND
    chosen = _chosen(request)
    initial = {"kind": kind, "from": params.get("from", ""), "to": params.get("to", "")}
    own = "to" if kind == REQUEST else "from"
    if not initial[own]:
        initial[own] = starting.own(kind, chosen)
    first = {"product": params.get("product", "")[:100], "quantity": params.get("quantity", "")}
    rows = [first] + [{} for _ in range(BLANK_LINES - 1)]
    return starting.form(initial=initial), line_formset(initial=rows)


def _chosen(request: HttpRequest) -> Branch | None:
    try:
        return accounts_selectors.chosen_branch(
            accounts_selectors.viewable_branches(request.user), request.GET.get("branch")
        )
    except UnknownBranch:
        return None


def _redrawn(starting: Starting, form: TransferForm, formset: Any, *, add: bool) -> tuple:
    """The form as posted, not judged yet (and with the same key): with one more blank row
    (``add``), or with its ends swapped when the kind just chosen puts the reader's branch
    at the other end (a request into it becomes a send out of it)."""
    initial = {name: form[name].value() for name in ("kind", "from", "to", "note")}
    once = str(form["once"].value() or "")
    initial["once"] = once if once.isalnum() and len(once) <= 64 else new_key()
    rows = [{"product": f.typed("product"), "quantity": f.typed("quantity")} for f in formset]
    if add:
        rows = [*rows[: MAX_LINES - 1], {}]
    else:
        _swap_ends(starting, initial)
    added = len(rows) - 1 if add else None
    return starting.form(initial=initial), line_formset(initial=rows), added


def _swap_ends(starting: Starting, initial: dict) -> None:
    codes = {branch.code: branch.pk for branch in starting.branches}
    source = codes.get(str(initial["from"] or "").strip().upper())
    destination = codes.get(str(initial["to"] or "").strip().upper())
    if initial["kind"] == SEND:
        own, allowed = source, starting.may_send
        other = destination
    else:
        own, allowed = destination, starting.may_request
        other = source
    if own not in allowed and other in allowed:
        initial["from"], initial["to"] = initial["to"], initial["from"]


def _new_page(
    request: HttpRequest,
    starting: Starting,
    form: TransferForm,
    formset: Any,
    added: int | None = None,
    *,
    lines: list[Line] | None = None,
    confirm: bool = False,
    status: int = 200,
) -> HttpResponse:
    if lines is None:
        lines = _read(request.user, form, formset)
    source = form.branch("from")
    context = {
        "form": form,
        "formset": formset,
        "rows": [{"line": line, "warning": warning(line, source)} for line in lines],
        "source": source,
        "sees_source": selectors.may_see_stock(request.user, source),
        "confirm": confirm,
        "added": added,
        "max_lines": MAX_LINES,
    }
    return render_page(
        request, "transfers/new.html", context, partial="transfers/_new_form.html", status=status
    )


@login_required
@require_GET
def transfer_product_options(request: HttpRequest) -> HttpResponse:
    """The products a line's typed text may mean, as a datalist's options (the page's
    search as you type): at most ten, each with what the source holds where the reader may
    see it."""
    text = request.GET.get("q") or next(
        (value for name, value in request.GET.items() if name.endswith("-product")), ""
    )
    products = selectors.product_suggestions(text)
    source = _directory_branch(request.GET.get("from", ""))
    held = selectors.on_hand(request.user, source, [p.pk for p in products])
    options = [
        {"product": product, "held": None if held is None else held[product.pk]}
        for product in products
    ]
    context = {"options": options, "source": source}
    return render(request, "transfers/_product_options.html", context)


@login_required
@require_GET
def transfer_line_stock(request: HttpRequest) -> HttpResponse:
    """One row's cell of what the source holds, and the warning when more is asked: drawn
    again when the row's product or quantity or the source changes."""
    index = request.GET.get("line", "")
    if not (index.isascii() and index.isdigit() and int(index) < MAX_LINES):
        raise Http404("No such line.")
    product = request.GET.get(f"lines-{index}-product", "")[:100]
    quantity = request.GET.get(f"lines-{index}-quantity", "")[:40]
    source = _directory_branch(request.GET.get("from", ""))
    form = LineForm({"product": product, "quantity": quantity})
    [line] = read_lines(_One(form), selectors.products_by_code([product]))
    held = selectors.on_hand(
        request.user, source, [line.product.pk] if line.product is not None else []
    )
    if held is not None and line.product is not None:
        line.held = held[line.product.pk]
    context = {
        "row": {"line": line, "warning": warning(line, source)},
        "source": source,
        "sees_source": held is not None,
    }
    return render(request, "transfers/_line_stock.html", context)


class _One:
    """One line's form where ``read_lines`` takes a formset."""

    def __init__(self, form: LineForm) -> None:
        self.forms = [form]


def _directory_branch(code: str) -> Branch | None:
    code = code.strip().upper()[:12]
    if not code:
        return None
    return branch_selectors.directory().filter(code=code).first()


# The transfer note ---------------------------------------------------------------------------


@login_required
@require_GET
def transfer_note(request: HttpRequest, transfer_id: uuid.UUID) -> HttpResponse:
    """The note that travels with the goods: the reference large and as a QR code, both
    ends, the lines with an empty column to tick, and boxes to sign. Printed from the
    browser (its own print stylesheet)."""
    transfer = _visible(request.user, transfer_id)
    shipped = transfer.shipped_at is not None
    qr = segno.make(transfer.reference, error="m", micro=False)
    context = {
        "transfer": transfer,
        "lines": [
            {
                "line": line,
                "quantity": line.requested if line.shipped is None else line.shipped,
            }
            for line in transfer.lines.all()
        ],
        "shipped": shipped,
        "ends": [
            {"title": pgettext_lazy("transfer note", "From"), "branch": transfer.from_branch},
            {"title": pgettext_lazy("transfer note", "To"), "branch": transfer.to_branch},
        ],
        "signatures": [_("Dispatched by"), _("Carried by"), _("Received by")],
        "qr": mark_safe(
            qr.svg_inline(
                scale=4, border=2, title=transfer.reference, svgclass="note-qr", omitsize=True
            )
        ),
        "printed_at": timezone.now(),
    }
    return render(request, "transfers/note.html", context)
