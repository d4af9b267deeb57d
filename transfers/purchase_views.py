"""The purchase order pages: the list of orders of the reader's branches, a new order and a
draft's edit (a header and lines, a formset), one order's page with its lines, receipts and
history, a button for each step the reader may take now and the receive form, and the order
as the CSV file its supplier gets.

The buttons come from ``purchase_workflow.available_steps``, the table the services check
and the API answers, so the page never offers a step the service would refuse on rights or
state. A step someone else took first is still refused by the service (409); the page then
says so, with the order as it is now.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import permissions
from accounts import selectors as accounts_selectors
from accounts.models import User
from accounts.permissions import Action
from catalog.models import Supplier, SupplierProduct
from inventory_project.kernel.errors import Conflict, DomainError, NotFound, NotPermitted
from inventory_project.kernel.once import OnceForm, apply_once, new_key
from inventory_project.kernel.pages import render_page
from stock.quantities import format_quantity
from stock.views.refusals import chosen_branch, refused, status_of
from transfers import purchase_selectors, purchasing, selectors
from transfers.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from transfers.purchase_forms import (
    BLANK_LINES,
    CloseForm,
    OrderForm,
    OrderListForm,
    OrderRow,
    ReceiveOrderForm,
    StepForm,
    check_rows,
    line_formset,
    tolerance,
)
from transfers.services import MAX_LINES

PER_PAGE = 50


# The list ------------------------------------------------------------------------------------


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    branches = accounts_selectors.viewable_branches(request.user)
    branch = chosen_branch(request, branches)
    form = OrderListForm(request.GET)
    form.is_valid()
    orders = _filtered(purchase_selectors.order_list(request.user), form, branch)
    number = form.value("page") or 1
    rows = list(orders[(number - 1) * PER_PAGE : number * PER_PAGE + 1])
    has_next = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    here = reverse("purchase-orders")
    state = {
        # As the address named it: someone of one branch has it chosen without naming it.
        "branch": branch.code if branch and request.GET.get("branch") else "",
        "status": form.value("status") or "",
        "supplier": form.value("supplier") or "",
        "q": form.value("q") or "",
    }
    context = {
        "form": form,
        "branch": branch,
        "suppliers": _suppliers_ordered_from(request.user),
        "rows": rows,
        "page_number": number,
        "here": here + _query(**state, page=number),
        "state_query": _query(**state),
        "previous_query": here + _query(**state, page=number - 1) if number > 1 else "",
        "next_query": here + _query(**state, page=number + 1) if has_next else "",
        "may_order": Action.ORDER_STOCK in permissions.actions_anywhere(request.user),
    }
    return render_page(
        request, "purchase_orders/list.html", context, partial="purchase_orders/_list_results.html"
    )


def _suppliers_ordered_from(user: User) -> list[Supplier]:
    """The suppliers of the orders ``user`` sees, for the filter: the supplier directory
    itself is for those who order (one query)."""
    orders = purchase_selectors.visible_orders(user)
    return list(
        Supplier.objects.filter(pk__in=orders.values("supplier_id"))
        .order_by("code")
        .only("code", "name")
    )


def _filtered(orders: QuerySet, form: OrderListForm, branch: Any) -> QuerySet[PurchaseOrder]:
    line_total = ExpressionWrapper(
        F("lines__quantity_ordered") * F("lines__unit_price"),
        output_field=DecimalField(max_digits=30, decimal_places=7),
    )
    # Summed over the same join of lines as the selector's count of them.
    orders = orders.annotate(row_total=Sum(line_total))
    if branch is not None:
        orders = orders.filter(branch_id=branch.pk)
    if form.value("status"):
        orders = orders.filter(status=form.value("status"))
    if form.value("supplier"):
        orders = orders.filter(supplier__code=form.value("supplier"))
    if form.value("q"):
        orders = orders.filter(reference__icontains=form.value("q"))
    return orders


def _query(**params: object) -> str:
    """``?status=…&supplier=…`` leaving out what is empty and the first page."""
    if params.get("page") == 1:
        params.pop("page")
    tidy = {name: value for name, value in params.items() if value}
    return "?" + urlencode(tidy) if tidy else ""


# One order -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageStep:
    """A step the page offers: what its button says, its form and how it calls its
    service."""

    name: str  # as ``available_steps`` lists it
    label: Any
    done: Any
    apply: Callable[[User, PurchaseOrder, Any], PurchaseOrder]
    reason: bool = False
    reason_required: bool = False
    danger: bool = False
    template: str = "purchase_orders/_step_button.html"
    form: Callable[..., OnceForm] = StepForm

    @property
    def wide(self) -> bool:
        """A form of its own (lines, a reason to give) rather than a button in a row."""
        return self.template != "purchase_orders/_step_button.html"

    def make_form(self, order: PurchaseOrder, lines: list, data: Any = None) -> OnceForm:
        if self.form is ReceiveOrderForm:
            return ReceiveOrderForm(data, prefix=self.name, lines=lines)
        return self.form(data, prefix=self.name)


def _receive(actor: User, order: PurchaseOrder, form: ReceiveOrderForm) -> PurchaseOrder:
    items = [
        purchasing.ReceiptItem(
            product_id=line.product_id, quantity=amount, unit_cost=cost, reason=reason
        )
        for line, amount, cost, reason in form.receipts()
    ]
    if not items:
        # Nothing outstanding to offer: the order was received in full when read.
        raise Conflict(
            gettext("Order %(reference)s has nothing outstanding.") % {"reference": order.reference}
        )
    return purchasing.receive_purchase_order(
        actor=actor, order_id=order.pk, items=items, note=form.cleaned_data["note"]
    )


def _received(order: PurchaseOrder) -> Any:
    if order.status == PurchaseOrderStatus.RECEIVED:
        return _("Order %(reference)s is received in full.")
    return _("Order %(reference)s: what arrived is received; the rest is still to come.")


PAGE_STEPS = {
    step.name: step
    for step in (
        PageStep(
            "send",
            label=_("Send to the supplier"),
            done=_("Order %(reference)s is sent; it is being e-mailed to the supplier."),
            apply=lambda actor, order, form: purchasing.send_purchase_order(
                actor=actor, order_id=order.pk
            ),
        ),
        PageStep(
            "receive",
            label=_("Receive these quantities"),
            done=_received,
            apply=_receive,
            template="purchase_orders/_step_receive.html",
            form=ReceiveOrderForm,
        ),
        PageStep(
            "close",
            label=_("Close short"),
            done=_("Order %(reference)s is closed; the rest will not come."),
            apply=lambda actor, order, form: purchasing.close_purchase_order(
                actor=actor, order_id=order.pk, reason=form.cleaned_data["reason"]
            ),
            reason=True,
            reason_required=True,
            danger=True,
            form=CloseForm,
        ),
        PageStep(
            "cancel",
            label=_("Cancel the order"),
            done=_("Order %(reference)s is cancelled."),
            apply=lambda actor, order, form: purchasing.cancel_purchase_order(
                actor=actor, order_id=order.pk, reason=form.cleaned_data["reason"]
            ),
            reason=True,
            danger=True,
        ),
    )
}


def _visible(user: User, order_id: uuid.UUID) -> PurchaseOrder:
    try:
        return purchase_selectors.order_detail(user, order_id)
    except NotFound as error:
        raise Http404(error.message) from None


def _lines(order: PurchaseOrder) -> list[PurchaseOrderLine]:
    """The order's lines as ``order_detail`` prefetched them (with products, by SKU)."""
    lines = list(order.lines.all())
    for line in lines:
        line.order = order  # ``outstanding`` reads the order's status: no query each
    return lines


@login_required
@require_GET
def order_detail(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    return _detail_page(request, _visible(request.user, order_id))


@login_required
@require_POST
def order_step(request: HttpRequest, order_id: uuid.UUID, step: str) -> HttpResponse:
    """One step's form, posted: the step's service, once however often it is sent."""
    page_step = PAGE_STEPS.get(step)
    if page_step is None:
        raise Http404(f"No step {step[:20]!r} on this page.")
    user = request.user
    order = _visible(user, order_id)
    lines = _lines(order)
    form = page_step.make_form(order, lines, request.POST)
    if step not in purchase_selectors.available_steps(user, order):
        if not _may_ever(user, order, step):
            return refused(request, NotPermitted(gettext("You may not do that to this order.")))
        # The form was drawn for a state someone else has moved the order on from.
        return _detail_page(request, order, refusal=[_moved_on(order, page_step)], status=409)
    if not form.is_valid():
        return _detail_page(request, order, failed=(step, form), status=400)

    def apply() -> dict:
        done = page_step.apply(user, order, form)
        return {"status": done.status}

    try:
        result, replayed = apply_once(
            user, form.cleaned_data["once"], f"purchase-order:{step}:{order.pk}", apply
        )
    except NotFound as error:
        raise Http404(error.message) from None
    except Conflict as error:
        fresh = _visible(user, order.pk)
        if step in purchase_selectors.available_steps(user, fresh):
            return _detail_page(request, fresh, refusal=[error.message], status=409)
        return _detail_page(request, fresh, refusal=[_moved_on(fresh, page_step)], status=409)
    except DomainError as error:
        _show_step_error(form, error)
        return _detail_page(
            request, _visible(user, order.pk), failed=(step, form), status=status_of(error)
        )
    done = page_step.done
    if callable(done):
        order.status = result["status"]
        done = done(order)
    done = done % {"reference": order.reference}
    if replayed:
        done = gettext("Already done, nothing more was recorded: %(done)s") % {"done": done}
    messages.success(request, done)
    return redirect("purchase-order", order.pk)


def _may_ever(user: User, order: PurchaseOrder, step: str) -> bool:
    """Whether ``user`` holds the step's right at the order's branch, whatever its state:
    without it the step is refused (403), with it the order has moved on (409)."""
    needed = {"receive": Action.RECEIVE_STOCK}.get(step, Action.ORDER_STOCK)
    return needed in permissions.actions_at(user, order.branch_id)


# A receipt item's field, as the receive form names it beside the item's line.
RECEIPT_FIELDS = {
    "product": "quantity",
    "quantity": "quantity",
    "unit_cost": "unit_cost",
    "reason": "reason",
}


def _show_step_error(form: OnceForm, error: DomainError) -> None:
    """A service's refusal beside the field it names: ``items.<i>.<field>`` is the i-th
    line received, ``reason`` the step's reason; else at the top of the form."""
    field = error.field or ""
    parts = field.split(".")
    if isinstance(form, ReceiveOrderForm) and len(parts) == 3 and parts[0] == "items":
        received = [line for line, *_rest in form.receipts()]
        index, name = parts[1], RECEIPT_FIELDS.get(parts[2])
        if index.isdigit() and int(index) < len(received) and name is not None:
            form.add_error(f"{received[int(index)].product_id}-{name}", error.message)
            return
    form.add_error(field if field in form.fields else None, error.message)


def _moved_on(order: PurchaseOrder, page_step: PageStep) -> str:
    return gettext(
        "Someone else acted first: order %(reference)s is %(status)s now, so “%(step)s” no "
        "longer applies. Here it is as it stands."
    ) % {
        "reference": order.reference,
        "status": order.get_status_display(),
        "step": page_step.label,
    }


def _detail_page(
    request: HttpRequest,
    order: PurchaseOrder,
    *,
    failed: tuple[str, OnceForm] | None = None,
    refusal: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    lines = _lines(order)
    available = purchase_selectors.available_steps(user, order)
    steps = []
    for name in available:
        page_step = PAGE_STEPS.get(name)
        if page_step is None:
            continue
        form = failed[1] if failed is not None and failed[0] == name else None
        steps.append({"step": page_step, "form": form or page_step.make_form(order, lines)})
    refusal = list(refusal or [])
    if failed is not None:
        refusal += [str(error) for error in failed[1].non_field_errors()]
    receipts = sorted(
        (receipt for line in lines for receipt in line.receipts.all()),
        key=lambda receipt: (receipt.created_at, receipt.pk),
    )
    total = sum(
        (line.quantity_ordered * line.unit_price for line in lines if line.unit_price is not None),
        Decimal(0),
    )
    context = {
        "order": order,
        "supplier": order.supplier,
        "lines": [
            {
                "line": line,
                "outstanding": line.outstanding,
                "total": None
                if line.unit_price is None
                else line.quantity_ordered * line.unit_price,
            }
            for line in lines
        ],
        "total": total,
        "receipts": receipts,
        "events": list(order.events.all()),
        "buttons": steps,
        "may_edit": "edit" in available and order.status == PurchaseOrderStatus.DRAFT,
        "refusal": refusal,
        "tolerance": format_quantity(tolerance() * 100),
        # Forms drawn for this state of the order: a live refresh that finds it unchanged
        # keeps them as they are being filled in (hx-preserve by this id).
        "version": order.updated_at.strftime("%s%f"),
    }
    return render_page(
        request,
        "purchase_orders/detail.html",
        context,
        partial="purchase_orders/_detail.html",
        status=status,
    )


@login_required
@require_GET
def order_csv(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    """The order as the CSV file its supplier is e-mailed."""
    order = _visible(request.user, order_id)
    response = HttpResponse(
        purchase_selectors.order_csv(order), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{order.reference}.csv"'
    return response


# A new order, a draft's edit -----------------------------------------------------------------


NEW_REFUSED = _("Only managers order stock from suppliers, for their own branches.")


@dataclass
class Ordering:
    """What the order form needs of its reader, read once per request: the branches where
    they may order and the active suppliers."""

    branches: list
    suppliers: list[Supplier]

    @classmethod
    def of(cls, user: User) -> "Ordering":
        return cls(
            branches=list(permissions.branches_where(user, Action.ORDER_STOCK).order_by("code")),
            suppliers=list(Supplier.objects.filter(is_active=True).order_by("code")),
        )

    def form(self, data: Any = None, *, initial: dict | None = None) -> OrderForm:
        return OrderForm(data, initial=initial, branches=self.branches, suppliers=self.suppliers)


@login_required
@require_http_methods(["GET", "POST"])
def order_new(request: HttpRequest) -> HttpResponse:
    """Draft an order: a branch, a supplier and lines. GET takes ``branch``, ``supplier``,
    ``product`` and ``quantity`` to fill the form in (replenishment links here)."""
    user = request.user
    ordering = Ordering.of(user)
    if not ordering.branches:
        return refused(request, NotPermitted(str(NEW_REFUSED)))
    if request.method == "GET":
        params = request.GET
        initial = {
            "branch": params.get("branch", "")[:20].upper(),
            "supplier": params.get("supplier", "")[:20].upper(),
        }
        if not initial["branch"] and len(ordering.branches) == 1:
            initial["branch"] = ordering.branches[0].code
        first = {
            "product": params.get("product", "").replace("\x00", "")[:100],
            "quantity": params.get("quantity", "").replace("\x00", "")[:40],
        }
        form = ordering.form(initial=initial)
        formset = line_formset(initial=[first] + [{} for _ in range(BLANK_LINES - 1)])
        rows = _rows(formset, form.chosen("supplier"), prefill_prices=True)
        return _form_page(request, form, formset, rows)
    form = ordering.form(request.POST)
    formset = line_formset(request.POST)
    if request.POST.get("action") in ("add", "redraw"):
        return _redrawn(request, ordering.form, form, formset, add=request.POST["action"] == "add")
    form.is_valid()
    formset.is_valid()
    rows = _rows(formset, form.chosen("supplier"))
    filled = check_rows(formset, rows)
    if not form.is_valid() or not formset.is_valid() or formset.non_form_errors():
        status = 403 if form.refused else 400
        return _form_page(request, form, formset, rows, status=status)
    branch, supplier = form.chosen("branch"), form.chosen("supplier")

    def apply() -> dict:
        order = purchasing.draft_purchase_order(
            actor=user,
            branch_id=branch.pk,
            supplier_id=supplier.pk,
            items=_items(filled),
            note=form.cleaned_data["note"],
        )
        return {"order": str(order.pk), "reference": order.reference}

    try:
        result, replayed = apply_once(user, form.cleaned_data["once"], "purchase-order:new", apply)
    except DomainError as error:
        _show_form_error(form, filled, error)
        return _form_page(request, form, formset, rows, status=status_of(error))
    if replayed:
        done = gettext("Already done, nothing more was recorded: order %(reference)s.")
    else:
        done = gettext("Order %(reference)s is drafted; send it when it is complete.")
    messages.success(request, done % {"reference": result["reference"]})
    return redirect("purchase-order", result["order"])


@login_required
@require_http_methods(["GET", "POST"])
def order_edit(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    """A draft's lines and note, replaced as a whole."""
    user = request.user
    order = _visible(user, order_id)
    if "edit" not in purchase_selectors.available_steps(user, order):
        if Action.ORDER_STOCK not in permissions.actions_at(user, order.branch_id):
            return refused(request, NotPermitted(str(NEW_REFUSED)))
        message = gettext("Order %(reference)s is %(status)s; only a draft is edited.") % {
            "reference": order.reference,
            "status": order.get_status_display(),
        }
        return _detail_page(request, order, refusal=[message], status=409)

    def make_form(data: Any = None, *, initial: dict | None = None) -> OrderForm:
        return OrderForm(data, initial=initial)

    if request.method == "GET":
        rows = [
            {
                "product": line.product.sku,
                "quantity": format_quantity(line.quantity_ordered),
                "unit_price": "" if line.unit_price is None else format_quantity(line.unit_price),
            }
            for line in _lines(order)
        ]
        form = make_form(initial={"note": order.note})
        formset = line_formset(initial=[*rows, {}])
        return _form_page(request, form, formset, _rows(formset, order.supplier), order=order)
    form = make_form(request.POST)
    formset = line_formset(request.POST)
    if request.POST.get("action") in ("add", "redraw"):
        add = request.POST["action"] == "add"
        return _redrawn(request, make_form, form, formset, add=add, order=order)
    form.is_valid()
    formset.is_valid()
    rows = _rows(formset, order.supplier)
    filled = check_rows(formset, rows)
    if not form.is_valid() or not formset.is_valid() or formset.non_form_errors():
        return _form_page(request, form, formset, rows, order=order, status=400)

    def apply() -> dict:
        purchasing.update_purchase_order(
            actor=user, order_id=order.pk, items=_items(filled), note=form.cleaned_data["note"]
        )
        return {"order": str(order.pk)}

    try:
        _result, replayed = apply_once(
            user, form.cleaned_data["once"], f"purchase-order:edit:{order.pk}", apply
        )
    except NotFound as error:
        raise Http404(error.message) from None
    except Conflict:
        fresh = _visible(user, order.pk)
        message = gettext(
            "Someone else acted first: order %(reference)s is %(status)s now, so it is no "
            "longer edited. Here it is as it stands."
        ) % {"reference": fresh.reference, "status": fresh.get_status_display()}
        return _detail_page(request, fresh, refusal=[message], status=409)
    except DomainError as error:
        _show_form_error(form, filled, error)
        return _form_page(request, form, formset, rows, order=order, status=status_of(error))
    done = gettext("Order %(reference)s is saved.") % {"reference": order.reference}
    if replayed:
        done = gettext("Already done, nothing more was recorded: %(done)s") % {"done": done}
    messages.success(request, done)
    return redirect("purchase-order", order.pk)


SUGGESTIONS = 10


@login_required
@require_GET
def order_product_options(request: HttpRequest) -> HttpResponse:
    """The products a line's typed text may mean, as a datalist's options (search as you
    type): those the chosen supplier sells first, with their SKU there and pack; anyone
    else's when the supplier sells none that match. Supplier terms only for those who
    order."""
    text = request.GET.get("q") or next(
        (value for name, value in request.GET.items() if name.endswith("-product")), ""
    )
    # Never a NUL in a lookup: PostgreSQL refuses one.
    text = text.replace("\x00", "").strip()[:100]
    code = request.GET.get("supplier", "").replace("\x00", "").strip().upper()[:20]
    offers: list[SupplierProduct] = []
    may_order = Action.ORDER_STOCK in permissions.actions_anywhere(request.user)
    if may_order and code and len(text) >= 2:
        offers = list(
            SupplierProduct.objects.filter(
                supplier__code=code, supplier__is_active=True, product__is_active=True
            )
            .filter(
                Q(product__sku__icontains=text)
                | Q(product__name__icontains=text)
                | Q(product__barcode__icontains=text)
                | Q(supplier_sku__icontains=text)
            )
            .select_related("product")
            .order_by("product__name", "pk")[:SUGGESTIONS]
        )
    products = [] if offers else selectors.product_suggestions(text)
    context = {"offers": offers, "products": products}
    return render(request, "purchase_orders/_product_options.html", context)


def _items(filled: list[OrderRow]) -> list[purchasing.OrderItem]:
    return [
        purchasing.OrderItem(
            product_id=row.product.pk, quantity=row.quantity, unit_price=row.unit_price
        )
        for row in filled
    ]


def _rows(formset: Any, supplier: Supplier | None, *, prefill_prices: bool = False) -> list:
    """Each row with the product its code names and the supplier's offer of it: two
    queries however many rows. ``prefill_prices`` puts the supplier's price in a row that
    names a product and no price (a form drawn from an address)."""
    codes = [form.typed("product") for form in formset.forms]
    products = selectors.products_by_code(codes)
    rows = [OrderRow(form, product=products.get(form.typed("product").upper())) for form in formset]
    offers = _offers(supplier, [row.product.pk for row in rows if row.product is not None])
    for row in rows:
        if row.product is not None:
            row.offer = offers.get(row.product.pk)
        if prefill_prices and row.offer is not None and not row.form.typed("unit_price"):
            row.form.offer_price(row.offer.price)
    return rows


def _offers(supplier: Supplier | None, product_ids: list) -> dict[uuid.UUID, SupplierProduct]:
    if supplier is None or not product_ids:
        return {}
    offers = SupplierProduct.objects.filter(supplier_id=supplier.pk, product_id__in=product_ids)
    return {offer.product_id: offer for offer in offers}


def _show_form_error(form: OrderForm, filled: list[OrderRow], error: DomainError) -> None:
    """A service's refusal beside the field it names (``items.2.quantity`` is the third
    filled-in line's), else at the top of the form."""
    field = error.field or ""
    parts = field.split(".")
    if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit():
        index = int(parts[1])
        if index < len(filled) and parts[2] in ("product", "quantity", "unit_price"):
            filled[index].form.add_error(parts[2], error.message)
            return
    names = {"branch_id": "branch", "supplier_id": "supplier", "branch": "branch"}
    name = names.get(field, field)
    form.add_error(name if name in form.fields else None, error.message)


def _redrawn(request, make_form, form, formset, *, add: bool, order=None) -> HttpResponse:
    """The form as posted, not judged yet (and with the same key): with one more blank row
    (``add``), or drawn again for the supplier just chosen (its prices and packs)."""
    names = [name for name in ("branch", "supplier", "note") if name in form.fields]
    initial = {name: form[name].value() for name in names}
    once = str(form["once"].value() or "")
    initial["once"] = once if once.isalnum() and len(once) <= 64 else new_key()
    rows = [
        {name: f.typed(name) for name in ("product", "quantity", "unit_price")} for f in formset
    ]
    added = None
    if add:
        rows = [*rows[: MAX_LINES - 1], {}]
        added = len(rows) - 1
    fresh = make_form(initial=initial)
    fresh_rows = line_formset(initial=rows)
    supplier = order.supplier if order is not None else fresh.chosen("supplier")
    shown = _rows(fresh_rows, supplier, prefill_prices=not add)
    return _form_page(request, fresh, fresh_rows, shown, order=order, added=added)


def _form_page(
    request: HttpRequest,
    form: OrderForm,
    formset: Any,
    rows: list[OrderRow],
    *,
    order: PurchaseOrder | None = None,
    added: int | None = None,
    status: int = 200,
) -> HttpResponse:
    supplier = order.supplier if order is not None else form.chosen("supplier")
    context = {
        "form": form,
        "formset": formset,
        "rows": rows,
        "order": order,
        "supplier": supplier,
        "added": added,
        "max_lines": MAX_LINES,
        "action": reverse("purchase-order-edit", args=[order.pk])
        if order is not None
        else reverse("purchase-order-new"),
    }
    return render_page(
        request,
        "purchase_orders/form.html",
        context,
        partial="purchase_orders/_form.html",
        status=status,
    )
