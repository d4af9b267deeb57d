"""The catalog pages: products with what the user's branches hold of each, one product's levels
at every branch the user may view, and, for ADMINs, adding and changing products and
categories through ``catalog.services``.

They live in stock because they show levels and ask permissions, which the catalog, below
both, may not import.
"""

import uuid
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from accounts import permissions, selectors
from branches.models import Branch
from catalog import selectors as catalog_selectors
from catalog import services as catalog_services
from catalog.errors import UnknownCategory, UnknownProduct
from catalog.filters import ProductFilter
from catalog.models import QUANTITY_DECIMAL_PLACES, QUANTITY_MAX_DIGITS, Category, Product, Unit
from inventory_project.kernel.errors import DomainError, NotPermitted
from inventory_project.kernel.once import OnceForm, apply_once
from inventory_project.kernel.pages import render_page
from stock.models import StockLevel
from stock.quantities import format_quantity, show_quantity
from stock.views.refusals import chosen_branch, refused, show_on_form, status_of

PRODUCTS_PER_PAGE = 50
ACTIVE_CHOICES = [
    ("active", gettext_lazy("Active")),
    ("inactive", gettext_lazy("Inactive")),
    ("all", gettext_lazy("All")),
]
# What the active filter asks of ProductFilter's is_active.
ACTIVE_FILTER = {"active": "true", "inactive": "false", "all": None}


# The list --------------------------------------------------------------------------------


class ProductSearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": gettext_lazy("Name, SKU or barcode"),
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False)
    active = forms.ChoiceField(label=gettext_lazy("Status"), choices=ACTIVE_CHOICES, required=False)
    page = forms.IntegerField(min_value=1, max_value=100_000, required=False)

    def __init__(self, *args, categories: list[Category], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The choices from the list the page already read, not from another query.
        self.categories = {str(c.pk): c for c in categories}
        self.fields["category"].choices = [("", gettext_lazy("Every category"))] + [
            (pk, c.name) for pk, c in self.categories.items()
        ]

    def clean_category(self) -> Category | None:
        return self.categories.get(self.cleaned_data.get("category") or "")


@login_required
@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    branches = selectors.viewable_branches(request.user)
    branch = chosen_branch(request, branches)
    categories = list(catalog_selectors.category_list())
    form = ProductSearchForm(request.GET, categories=categories)
    # A malformed filter is shown beside its field and the list shows everything else.
    values = form.cleaned_data if form.is_valid() else {}
    q = (values.get("q") or "").strip()
    category = values.get("category")
    active = values.get("active") or "active"
    page = values.get("page") or 1

    filters = {"q": q, "category": str(category.pk) if category else ""}
    if ACTIVE_FILTER[active] is not None:
        filters["is_active"] = ACTIVE_FILTER[active]
    products = ProductFilter(
        {k: v for k, v in filters.items() if v}, queryset=catalog_selectors.product_list()
    ).qs
    products = products.annotate(on_hand=_on_hand_at(request.user, branch, branches))
    start = (page - 1) * PRODUCTS_PER_PAGE
    # One more than a page tells whether there is a next one, without counting them all.
    rows = list(products[start : start + PRODUCTS_PER_PAGE + 1])
    has_next = len(rows) > PRODUCTS_PER_PAGE
    rows = rows[:PRODUCTS_PER_PAGE]

    state = {"q": q, "category": filters["category"], "active": active}
    if branch is not None and len(branches) > 1:
        state["branch"] = branch.code
    context = {
        "form": form,
        "products": [_product_row(product) for product in rows],
        "branch": branch,
        "keep_branch": state.get("branch", ""),
        "page": page,
        "previous_query": _query(state, page - 1) if page > 1 else None,
        "next_query": _query(state, page + 1) if has_next else None,
        "filtered": bool(q or category or active != "active"),
        "may_change": permissions.is_admin(request.user),
    }
    return render_page(request, "catalog/products.html", context, partial="catalog/_products.html")


def _on_hand_at(user, branch: Branch | None, branches: list[Branch]) -> Coalesce:
    """What the chosen branch, or all the user may view, holds of each product: a subquery
    per row of the page, in the page's one query."""
    levels = StockLevel.objects.filter(product=OuterRef("pk"))
    if branch is not None:
        levels = levels.filter(branch=branch)
    elif not permissions.is_admin(user):
        levels = levels.filter(branch__in=[b.pk for b in branches])
    total = levels.order_by().values("product").annotate(total=Sum("on_hand")).values("total")
    quantity = DecimalField(
        max_digits=QUANTITY_MAX_DIGITS + 6, decimal_places=QUANTITY_DECIMAL_PLACES
    )
    return Coalesce(
        Subquery(total, output_field=quantity), Value(Decimal("0")), output_field=quantity
    )


def _product_row(product: Product) -> dict:
    return {
        "product": product,
        "on_hand": show_quantity(product.on_hand),
        "threshold": show_quantity(product.low_stock_threshold),
    }


def _query(state: dict, page: int) -> str:
    params = {k: v for k, v in state.items() if v and not (k == "active" and v == "active")}
    if page > 1:
        params["page"] = page
    return urlencode(params)


# One product -----------------------------------------------------------------------------


@login_required
@require_GET
def product_detail(request: HttpRequest, product_id: uuid.UUID) -> HttpResponse:
    product = _product_or_404(product_id)
    branches = selectors.viewable_branches(request.user)
    chosen = chosen_branch(request, branches)
    levels = {
        level.branch_id: level
        for level in StockLevel.objects.filter(product=product, branch__in=[b.pk for b in branches])
    }
    rows = []
    for branch in branches:
        level = levels.get(branch.pk)
        if level is not None:
            level.product = product  # its threshold falls back on the product's
        rows.append(
            {
                "branch": branch,
                "level": level,
                "on_hand": show_quantity(level.on_hand) if level else None,
                "threshold": show_quantity(
                    level.threshold if level else product.low_stock_threshold
                ),
                "own_threshold": level is not None and level.low_stock_threshold is not None,
                "chosen": branch == chosen,
            }
        )
    total = sum((level.on_hand for level in levels.values()), Decimal("0"))
    context = {
        "product": product,
        "rows": rows,
        "total": show_quantity(total),
        "threshold": show_quantity(product.low_stock_threshold),
        "may_change": permissions.is_admin(request.user),
    }
    return render_page(request, "catalog/product.html", context, partial="catalog/_product.html")


def _product_or_404(product_id: uuid.UUID) -> Product:
    try:
        return catalog_selectors.get_product(product_id=product_id)
    except UnknownProduct as error:
        raise Http404(error.message) from None


# Adding and changing products (ADMINs) ---------------------------------------------------


class ProductForm(OnceForm):
    sku = forms.CharField(label=gettext_lazy("SKU"), max_length=64)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    barcode = forms.CharField(
        label=gettext_lazy("Barcode"),
        max_length=48,
        required=False,
        help_text=gettext_lazy("EAN/UPC or an internal code read by scanners; may be empty."),
    )
    category = forms.ModelChoiceField(
        label=gettext_lazy("Category"),
        queryset=Category.objects.order_by("name", "pk"),
        required=False,
        empty_label=gettext_lazy("None"),
    )
    unit = forms.ChoiceField(label=gettext_lazy("Unit"), choices=Unit.choices)
    low_stock_threshold = forms.DecimalField(
        label=gettext_lazy("Default low-stock threshold"),
        min_value=0,
        max_digits=QUANTITY_MAX_DIGITS,
        decimal_places=QUANTITY_DECIMAL_PLACES,
        initial=Decimal("0"),
        help_text=gettext_lazy("Used by every branch that has not set its own."),
    )
    cost_price = forms.DecimalField(
        label=gettext_lazy("Cost price"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        initial=Decimal("0"),
    )
    sale_price = forms.DecimalField(
        label=gettext_lazy("Sale price"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        initial=Decimal("0"),
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("Active"),
        required=False,
        initial=True,
        help_text=gettext_lazy("Deactivate rather than delete a product with stock history."),
    )

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("once")
        category = data.pop("category")
        data["category_id"] = category.pk if category else None
        return data


# A service names the category field as the model does.
PRODUCT_FIELDS = {"category_id": "category"}


@login_required
@require_http_methods(["GET", "POST"])
def product_new(request: HttpRequest) -> HttpResponse:
    if not permissions.is_admin(request.user) and request.method == "GET":
        return refused(request, NotPermitted(gettext("Only an administrator can add products.")))
    form = ProductForm(request.POST or None)
    status = 200
    if request.method == "POST" and not form.is_valid() and not permissions.is_admin(request.user):
        return refused(request, NotPermitted(gettext("Only an administrator can add products.")))
    if request.method == "POST" and form.is_valid():
        changes = form.changes()

        def create() -> dict:
            product = catalog_services.create_product(actor=request.user, **changes)
            return {"product": str(product.pk), "sku": product.sku}

        try:
            result, _ = apply_once(request.user, form.cleaned_data["once"], "product-new", create)
        except NotPermitted as error:
            return refused(request, error)
        except DomainError as error:
            show_on_form(form, error, fields=PRODUCT_FIELDS)
            status = status_of(error)
        else:
            messages.success(request, gettext("Product %(sku)s added.") % {"sku": result["sku"]})
            return redirect("product", result["product"])
    elif request.method == "POST":
        status = 400
    return render_page(
        request, "catalog/product_form.html", {"form": form, "product": None}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, product_id: uuid.UUID) -> HttpResponse:
    product = _product_or_404(product_id)
    if not permissions.is_admin(request.user) and request.method == "GET":
        return refused(request, NotPermitted(gettext("Only an administrator can change products.")))
    initial = {
        "sku": product.sku,
        "name": product.name,
        "barcode": product.barcode or "",
        "category": product.category_id,
        "unit": product.unit,
        "low_stock_threshold": format_quantity(product.low_stock_threshold),
        "cost_price": product.cost_price,
        "sale_price": product.sale_price,
        "is_active": product.is_active,
    }
    form = ProductForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and not form.is_valid() and not permissions.is_admin(request.user):
        return refused(request, NotPermitted(gettext("Only an administrator can change products.")))
    if request.method == "POST" and form.is_valid():
        try:
            catalog_services.update_product(
                actor=request.user, product_id=product.pk, **form.changes()
            )
        except NotPermitted as error:
            return refused(request, error)
        except DomainError as error:
            show_on_form(form, error, fields=PRODUCT_FIELDS)
            status = status_of(error)
        else:
            saved = gettext("Product %(sku)s saved.") % {"sku": form.cleaned_data["sku"]}
            messages.success(request, saved)
            return redirect("product", product.pk)
    elif request.method == "POST":
        status = 400
    return render_page(
        request, "catalog/product_form.html", {"form": form, "product": product}, status=status
    )


# Categories ------------------------------------------------------------------------------


class CategoryForm(OnceForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


@login_required
@require_http_methods(["GET", "POST"])
def category_list(request: HttpRequest) -> HttpResponse:
    """Every category with its number of products; ADMINs add one here."""
    form = CategoryForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "once"}

            def create() -> dict:
                category = catalog_services.create_category(actor=request.user, **data)
                return {"name": category.name}

            try:
                result, _ = apply_once(
                    request.user, form.cleaned_data["once"], "category-new", create
                )
            except NotPermitted as error:
                return refused(request, error)
            except DomainError as error:
                show_on_form(form, error)
                status = status_of(error)
            else:
                messages.success(
                    request, gettext("Category %(name)s added.") % {"name": result["name"]}
                )
                return redirect("categories")
        elif not permissions.is_admin(request.user):
            return refused(
                request, NotPermitted(gettext("Only an administrator can add categories."))
            )
        else:
            status = 400
    context = {
        "categories": _categories(),
        "form": form,
        "may_change": permissions.is_admin(request.user),
    }
    return render_page(request, "catalog/categories.html", context, status=status)


def _categories() -> QuerySet[Category]:
    return catalog_selectors.category_list().annotate(product_count=Count("products"))


@login_required
@require_http_methods(["GET", "POST"])
def category_edit(request: HttpRequest, category_id: uuid.UUID) -> HttpResponse:
    try:
        category = catalog_selectors.get_category(category_id=category_id)
    except UnknownCategory as error:
        raise Http404(error.message) from None
    if not permissions.is_admin(request.user) and request.method == "GET":
        return refused(
            request, NotPermitted(gettext("Only an administrator can change categories."))
        )
    initial = {"name": category.name, "description": category.description}
    form = CategoryForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and not form.is_valid() and not permissions.is_admin(request.user):
        return refused(
            request, NotPermitted(gettext("Only an administrator can change categories."))
        )
    if request.method == "POST" and form.is_valid():
        try:
            catalog_services.update_category(
                actor=request.user,
                category_id=category.pk,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            )
        except NotPermitted as error:
            return refused(request, error)
        except DomainError as error:
            show_on_form(form, error)
            status = status_of(error)
        else:
            messages.success(
                request, gettext("Category %(name)s saved.") % {"name": form.cleaned_data["name"]}
            )
            return redirect(reverse("categories"))
    elif request.method == "POST":
        status = 400
    return render_page(
        request, "catalog/category_form.html", {"form": form, "category": category}, status=status
    )
