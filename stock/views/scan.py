"""The scan page: at the shelf, at one branch, a barcode or SKU finds a product and a quantity
receives or issues it; what was recorded this session is listed, newest first, each with an
Undo that records the opposite movement (the ledger keeps both).

Every step is a plain form (GET to look up, POST to record or undo, then a redirect); with
HTMX each is one round trip that swaps the page's one region. Recording and undoing act once
per rendered form (``OnceForm`` + ``apply_once``): a scanner's double Enter records once.
"""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts import permissions, selectors
from accounts.permissions import Action
from branches.models import Branch
from catalog import selectors as catalog_selectors
from catalog.errors import UnknownProduct
from catalog.models import Product
from inventory_project.kernel.errors import Conflict, DomainError, NotFound
from inventory_project.kernel.once import OnceForm, apply_once
from inventory_project.kernel.pages import render_page, wants_partial
from stock import services
from stock.models import MovementKind, StockLevel, StockMovement
from stock.quantities import show_quantity
from stock.views.refusals import chosen_branch, show_on_form, status_of

SESSION_KEY = "scan_log"
LOG_LENGTH = 50  # entries kept in the session, of every branch together
CODE_MAX_LENGTH = 64
MINUS = "\u2212"  # a decrease, as a minus sign rather than a hyphen


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Barcode or SKU"), max_length=CODE_MAX_LENGTH, required=False
    )


class RecordForm(OnceForm):
    product = forms.UUIDField(widget=forms.HiddenInput)
    quantity = forms.CharField(label=gettext_lazy("Quantity"), max_length=32, initial="1")
    # The button pressed; Enter in the quantity field presses the first one, Receive.
    action = forms.ChoiceField(choices=[("receive", "receive"), ("issue", "issue")], required=False)


class UndoForm(OnceForm):
    entry = forms.UUIDField(widget=forms.HiddenInput)


# Pages -----------------------------------------------------------------------------------


@login_required
@require_GET
def scan(request: HttpRequest) -> HttpResponse:
    branch, branches = _branch(request)
    if branch is None:
        return _choose_branch(request, branches)
    lookup = CodeForm(request.GET)
    code = lookup.data.get("code", "").strip()
    product = None
    not_found = None
    if code and lookup.is_valid():
        product = _lookup(code)
        if product is None:
            not_found = gettext("No product with barcode or SKU %(code)s.") % {"code": code}
    record = RecordForm(initial={"product": product.pk}) if product else None
    return _page(
        request, branch, lookup=lookup, product=product, record=record, not_found=not_found
    )


@login_required
@require_POST
def scan_record(request: HttpRequest) -> HttpResponse:
    branch, branches = _branch(request)
    if branch is None:
        return _choose_branch(request, branches, status=400)
    form = RecordForm(request.POST)
    product = _posted_product(form)
    if not form.is_valid():
        return _page(request, branch, product=product, record=form, status=400)
    if product is None:
        raise Http404(gettext("No product with id %(id)s.") % {"id": form.cleaned_data["product"]})
    issuing = form.cleaned_data["action"] == "issue"
    service = services.issue_stock if issuing else services.receive_stock
    quantity = form.cleaned_data["quantity"]

    def record() -> dict:
        movement = service(
            actor=request.user, branch_id=branch.pk, product_id=product.pk, quantity=quantity
        )
        return _entry(movement, branch, product)

    try:
        entry, replayed = apply_once(request.user, form.cleaned_data["once"], "scan-record", record)
    except DomainError as error:
        show_on_form(form, error)
        return _page(request, branch, product=product, record=form, status=status_of(error))
    if not replayed:
        _remember(request, entry)
    messages.success(request, _said(entry, branch))
    return _done(request, branch)


@login_required
@require_POST
def scan_undo(request: HttpRequest) -> HttpResponse:
    branch, branches = _branch(request)
    if branch is None:
        return _choose_branch(request, branches, status=400)
    form = UndoForm(request.POST)
    if not form.is_valid():
        return _page(request, branch, status=400)
    key = str(form.cleaned_data["entry"])
    entry = next(
        (e for e in _log(request) if e["id"] == key and e["branch"] == str(branch.pk)), None
    )

    def undo() -> dict:
        # Checked here, not before: a form sent again finds its first answer instead.
        if entry is None or entry.get("undoes"):
            raise NotFound(gettext("Nothing to undo: that entry is not in this session's list."))
        if entry["undone"]:
            raise Conflict(gettext("That entry is undone already."))
        # The opposite movement: the ledger keeps both.
        receipt = entry["kind"] == MovementKind.RECEIPT
        service = services.issue_stock if receipt else services.receive_stock
        movement = service(
            actor=request.user,
            branch_id=branch.pk,
            product_id=entry["product"],
            quantity=Decimal(entry["delta"]).copy_abs(),
            note=gettext("Undoes a scanned entry (%(id)s).") % {"id": entry["id"]},
        )
        return _entry(movement, branch, None, entry)

    try:
        undone, replayed = apply_once(request.user, form.cleaned_data["once"], "scan-undo", undo)
    except DomainError as error:
        return _page(request, branch, problem=error.message, status=status_of(error))
    if not replayed:
        entry["undone"] = True  # the entry is the session's own: saved with the list
        _remember(request, undone)
    messages.success(request, gettext("Undone.") + " " + _said(undone, branch))
    return _done(request, branch)


# What the pages share --------------------------------------------------------------------


def _branch(request: HttpRequest) -> tuple[Branch | None, list[Branch]]:
    branches = selectors.viewable_branches(request.user)
    return chosen_branch(request, branches), branches


def _choose_branch(request: HttpRequest, branches: list[Branch], *, status: int = 200):
    """Someone of several branches says first where they are."""
    rights = permissions.rights(request.user, branches)
    choices = [b for b in branches if Action.RECEIVE_STOCK in rights.at(b)]
    return render_page(request, "stock/scan_branch.html", {"choices": choices}, status=status)


def _lookup(code: str) -> Product | None:
    """By barcode exactly as printed first, then by SKU whatever its case."""
    for kind in ("barcode", "sku"):
        try:
            return catalog_selectors.product_by_code(**{kind: code})
        except UnknownProduct:
            continue
    return None


def _posted_product(form: RecordForm) -> Product | None:
    field = form["product"]
    try:
        return catalog_selectors.get_product(product_id=field.value() or "")
    except UnknownProduct:
        return None


def _page(
    request: HttpRequest,
    branch: Branch,
    *,
    lookup: CodeForm | None = None,
    product: Product | None = None,
    record: RecordForm | None = None,
    not_found: str | None = None,
    problem: str | None = None,
    status: int = 200,
) -> HttpResponse:
    actions = permissions.rights(request.user, [branch]).at(branch)
    may_receive = Action.RECEIVE_STOCK in actions
    may_issue = Action.ISSUE_STOCK in actions
    on_hand = None
    if product is not None:
        held = (
            StockLevel.objects.filter(branch=branch, product=product)
            .values_list("on_hand", flat=True)
            .first()
        )
        on_hand = show_quantity(held if held is not None else Decimal("0"))
    context = {
        "branch": branch,
        "branch_query": urlencode({"branch": branch.code}),
        "lookup": lookup or CodeForm(),
        "product": product,
        "record": record if product is not None else None,
        "record_errors": record.non_field_errors() if record is not None else [],
        "on_hand": on_hand,
        "step": "1" if product is not None and product.is_countable else "0.001",
        "not_found": not_found,
        "problem": problem,
        "may_receive": may_receive,
        "may_issue": may_issue,
        "log": _rows(request, branch, may_receive=may_receive, may_issue=may_issue),
    }
    return render_page(
        request, "stock/scan.html", context, partial="stock/_scan.html", status=status
    )


def _done(request: HttpRequest, branch: Branch) -> HttpResponse:
    """Ready for the next scan: the fresh page (HTMX: its region, and the address without the
    code looked up), or a redirect to it."""
    url = f"{reverse('scan')}?{urlencode({'branch': branch.code})}"
    if not wants_partial(request):
        return redirect(url)
    response = _page(request, branch)
    response["HX-Push-Url"] = url
    return response


# The session's list ----------------------------------------------------------------------


def _entry(
    movement: StockMovement, branch: Branch, product: Product | None, undoes: dict | None = None
) -> dict:
    """What the list keeps of a movement: JSON, stored by ``apply_once`` and the session."""
    return {
        "id": str(movement.pk),
        "branch": str(branch.pk),
        "at": (movement.created_at or timezone.now()).isoformat(),
        "kind": movement.kind,
        "product": str(movement.product_id),
        "sku": product.sku if product else undoes["sku"],
        "name": product.name if product else undoes["name"],
        "unit": product.unit if product else undoes["unit"],  # pcs, kg...
        "delta": str(movement.delta),
        "on_hand_after": str(movement.on_hand_after),
        "undone": False,
        "undoes": undoes["id"] if undoes else None,
    }


def _log(request: HttpRequest) -> list[dict]:
    return request.session.get(SESSION_KEY, [])


def _remember(request: HttpRequest, entry: dict) -> None:
    log = [entry, *_log(request)][:LOG_LENGTH]
    request.session[SESSION_KEY] = log  # assigned anew: the session saves it


def _rows(request: HttpRequest, branch: Branch, *, may_receive: bool, may_issue: bool):
    rows = []
    for entry in _log(request):
        if entry["branch"] != str(branch.pk):
            continue
        delta = Decimal(entry["delta"])
        # Undoing a receipt issues, undoing an issue receives: offered to who may do that.
        allowed = may_issue if delta > 0 else may_receive
        rows.append(
            {
                "entry": entry,
                "at": parse_datetime(entry["at"]),
                "delta": ("+" if delta > 0 else MINUS) + show_quantity(delta.copy_abs()),
                "on_hand_after": show_quantity(Decimal(entry["on_hand_after"])),
                "undo": UndoForm(initial={"entry": entry["id"]})
                if allowed and not entry["undone"] and not entry["undoes"]
                else None,
            }
        )
    return rows


def _said(entry: dict, branch: Branch) -> str:
    delta = Decimal(entry["delta"])
    values = {
        "quantity": show_quantity(delta.copy_abs()),
        "unit": entry["unit"],
        "name": entry["name"],
        "branch": branch.code,
        "on_hand": show_quantity(Decimal(entry["on_hand_after"])),
    }
    if delta > 0:
        text = gettext("Received %(quantity)s %(unit)s of %(name)s at %(branch)s")
    else:
        text = gettext("Issued %(quantity)s %(unit)s of %(name)s at %(branch)s")
    return (text + gettext("; on hand now %(on_hand)s.")) % values
