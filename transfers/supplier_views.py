"""The supplier pages: the list, one supplier with the products it sells, and, for ADMINs,
adding and changing suppliers and their product lines through ``catalog.services``.

Managers (anyone who may order stock somewhere) read them; everyone else is told in words
that suppliers are not theirs to see.
"""

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import permissions
from catalog import services
from catalog.errors import UnknownSupplier
from catalog.models import Supplier
from inventory_project.kernel.errors import DomainError, NotFound, NotPermitted
from inventory_project.kernel.once import apply_once
from inventory_project.kernel.pages import render_page
from stock.quantities import format_quantity, show_quantity
from stock.views.refusals import refused, show_on_form, status_of
from transfers import supplier_selectors as selectors
from transfers.supplier_forms import (
    ACTIVE_FILTER,
    RemoveForm,
    SupplierForm,
    SupplierProductForm,
    SupplierSearchForm,
)

PER_PAGE = 50
# A service names the product by its id; the form by what was typed.
LINE_FIELDS = {"product_id": "product"}


def _not_a_reader(request: HttpRequest) -> HttpResponse | None:
    if selectors.may_read_suppliers(request.user):
        return None
    return refused(
        request,
        NotPermitted(
            gettext("Only administrators and those who order stock for a branch see suppliers.")
        ),
    )


def _supplier_or_404(supplier_id: uuid.UUID) -> Supplier:
    try:
        return selectors.get_supplier(supplier_id=supplier_id)
    except UnknownSupplier as error:
        raise Http404(error.message) from None


# The list --------------------------------------------------------------------------------


@login_required
@require_GET
def supplier_list(request: HttpRequest) -> HttpResponse:
    if (refusal := _not_a_reader(request)) is not None:
        return refusal
    form = SupplierSearchForm(request.GET)
    # A malformed filter is shown beside its field and the list shows everything else.
    values = form.cleaned_data if form.is_valid() else {}
    q = (values.get("q") or "").strip()
    active = values.get("active") or "active"
    page = values.get("page") or 1
    suppliers = selectors.supplier_list(q=q, is_active=ACTIVE_FILTER[active])
    start = (page - 1) * PER_PAGE
    # One more than a page tells whether there is a next one, without counting them all.
    rows = list(suppliers[start : start + PER_PAGE + 1])
    has_next = len(rows) > PER_PAGE
    state = {"q": q, "active": active}
    context = {
        "form": form,
        "suppliers": rows[:PER_PAGE],
        "page": page,
        "previous_query": _query(state, page - 1) if page > 1 else None,
        "next_query": _query(state, page + 1) if has_next else None,
        "filtered": bool(q or active != "active"),
        "may_change": permissions.is_admin(request.user),
    }
    return render_page(
        request, "suppliers/list.html", context, partial="suppliers/_list_results.html"
    )


def _query(state: dict, page: int) -> str:
    params = {k: v for k, v in state.items() if v and not (k == "active" and v == "active")}
    if page > 1:
        params["page"] = page
    return urlencode(params)


# One supplier ----------------------------------------------------------------------------


@login_required
@require_GET
def supplier_detail(request: HttpRequest, supplier_id: uuid.UUID) -> HttpResponse:
    if (refusal := _not_a_reader(request)) is not None:
        return refusal
    supplier = _supplier_or_404(supplier_id)
    return _detail_page(request, supplier, line_form=None)


def _detail_page(
    request: HttpRequest,
    supplier: Supplier,
    *,
    line_form: SupplierProductForm | None,
    status: int = 200,
) -> HttpResponse:
    may_change = permissions.is_admin(request.user)
    lines = list(selectors.supplier_products(supplier))
    if may_change and line_form is None:
        line_form = SupplierProductForm(initial=_line_initial(request, lines))
    context = {
        "supplier": supplier,
        "lines": [
            {
                "line": line,
                "pack_size": show_quantity(line.pack_size),
                "minimum": show_quantity(line.minimum_order_quantity),
                "remove_form": RemoveForm() if may_change else None,
            }
            for line in lines
        ],
        "line_form": line_form,
        "may_change": may_change,
    }
    return render_page(
        request,
        "suppliers/detail.html",
        context,
        partial="suppliers/_detail.html",
        status=status,
    )


def _line_initial(request: HttpRequest, lines: list) -> dict:
    """``?product=<SKU>`` fills the form with that product's line, to change it."""
    wanted = request.GET.get("product", "").strip().upper()
    for line in lines:
        if wanted and line.product.sku.upper() == wanted:
            return {
                "product": line.product.sku,
                "supplier_sku": line.supplier_sku,
                "pack_size": format_quantity(line.pack_size),
                "price": line.price.normalize(),
                "minimum_order_quantity": format_quantity(line.minimum_order_quantity),
                "is_preferred": line.is_preferred,
            }
    return {}


# Adding and changing suppliers (ADMINs) ----------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def supplier_new(request: HttpRequest) -> HttpResponse:
    if not permissions.is_admin(request.user):
        return refused(request, NotPermitted(gettext("Only an administrator can add suppliers.")))
    form = SupplierForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        changes = form.changes()

        def create() -> dict:
            supplier = services.create_supplier(actor=request.user, **changes)
            return {"supplier": str(supplier.pk), "code": supplier.code}

        try:
            result, _ = apply_once(request.user, form.cleaned_data["once"], "supplier-new", create)
        except NotPermitted as error:
            return refused(request, error)
        except DomainError as error:
            show_on_form(form, error)
            status = status_of(error)
        else:
            messages.success(
                request, gettext("Supplier %(code)s added.") % {"code": result["code"]}
            )
            return redirect("supplier", result["supplier"])
    elif request.method == "POST":
        status = 400
    return render_page(
        request, "suppliers/form.html", {"form": form, "supplier": None}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def supplier_edit(request: HttpRequest, supplier_id: uuid.UUID) -> HttpResponse:
    if not permissions.is_admin(request.user):
        return refused(
            request, NotPermitted(gettext("Only an administrator can change suppliers."))
        )
    supplier = _supplier_or_404(supplier_id)
    initial = {
        "code": supplier.code,
        "name": supplier.name,
        "contact_name": supplier.contact_name,
        "email": supplier.email,
        "phone": supplier.phone,
        "lead_time_days": supplier.lead_time_days,
        "currency": supplier.currency,
        "is_active": supplier.is_active,
    }
    form = SupplierForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        changes = form.changes()

        def update() -> dict:
            saved = services.update_supplier(actor=request.user, supplier_id=supplier.pk, **changes)
            return {"code": saved.code}

        try:
            result, _ = apply_once(request.user, form.cleaned_data["once"], "supplier-edit", update)
        except NotPermitted as error:
            return refused(request, error)
        except DomainError as error:
            show_on_form(form, error)
            status = status_of(error)
        else:
            messages.success(
                request, gettext("Supplier %(code)s saved.") % {"code": result["code"]}
            )
            return redirect("supplier", supplier.pk)
    elif request.method == "POST":
        status = 400
    return render_page(
        request, "suppliers/form.html", {"form": form, "supplier": supplier}, status=status
    )


# What a supplier sells (ADMINs) ------------------------------------------------------------


@login_required
@require_POST
def supplier_product_set(request: HttpRequest, supplier_id: uuid.UUID) -> HttpResponse:
    if not permissions.is_admin(request.user):
        return refused(
            request,
            NotPermitted(gettext("Only an administrator can change what suppliers sell.")),
        )
    supplier = _supplier_or_404(supplier_id)
    form = SupplierProductForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, supplier, line_form=form, status=400)
    line = form.line()
    sku = form.cleaned_data["product"].sku

    def set_line() -> dict:
        services.set_supplier_product(actor=request.user, supplier_id=supplier.pk, **line)
        return {"sku": sku}

    try:
        result, _ = apply_once(
            request.user, form.cleaned_data["once"], "supplier-product-set", set_line
        )
    except NotPermitted as error:
        return refused(request, error)
    except DomainError as error:
        show_on_form(form, error, fields=LINE_FIELDS)
        return _detail_page(request, supplier, line_form=form, status=status_of(error))
    messages.success(
        request,
        gettext("%(sku)s from %(code)s saved.") % {"sku": result["sku"], "code": supplier.code},
    )
    return redirect(reverse("supplier", args=[supplier.pk]) + "#products")


@login_required
@require_POST
def supplier_product_remove(
    request: HttpRequest, supplier_id: uuid.UUID, product_id: uuid.UUID
) -> HttpResponse:
    if not permissions.is_admin(request.user):
        return refused(
            request,
            NotPermitted(gettext("Only an administrator can change what suppliers sell.")),
        )
    supplier = _supplier_or_404(supplier_id)
    form = RemoveForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, supplier, line_form=None, status=400)

    def remove() -> dict:
        services.remove_supplier_product(
            actor=request.user, supplier_id=supplier.pk, product_id=product_id
        )
        return {}

    try:
        apply_once(request.user, form.cleaned_data["once"], "supplier-product-remove", remove)
    except NotFound as error:
        raise Http404(error.message) from None
    except DomainError as error:
        return refused(request, error)
    messages.success(request, gettext("Product removed from %(code)s.") % {"code": supplier.code})
    return redirect(reverse("supplier", args=[supplier.pk]) + "#products")
