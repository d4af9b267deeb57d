"""The stock list: what a branch (or every branch of the user) holds, one row per level,
searchable, filterable, sortable and paged, with rows that refresh themselves live.

The address carries the whole state (``q``, ``category``, ``low``, ``min``, ``max``,
``active``, ``sort``, ``cursor``, ``branch``), so a list is bookmarked, shared and restored
by the back button. Filtering and sorting reuse the API's ``StockLevelFilter``: the page only
translates its own parameter names into the API's.

Next and Previous lead by ``cursor`` (the API's keyset cursor: the page after the last row
shown, read by its sort key), so the 300th page costs the database what the first does.
``page=N`` addresses made before still answer their page (by offset).
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils import formats, timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from accounts import selectors as accounts_selectors
from branches.errors import UnknownBranch
from branches.models import Branch
from catalog.models import (
    MAX_QUANTITY,
    QUANTITY_DECIMAL_PLACES,
    QUANTITY_MAX_DIGITS,
    Category,
    Unit,
)
from inventory_project.kernel.api import InvalidCursor, Keyset, KeysetPage
from inventory_project.kernel.db_router import replica_reads
from inventory_project.kernel.pages import render_page, wants_partial
from stock import selectors
from stock.filters import StockLevelFilter
from stock.models import StockLevel
from stock.quantities import show_quantity

PER_PAGE = 50
# A ``page=N`` address costs the database an OFFSET scan; nobody pages this far by hand
# (searching does it better), and it keeps a hand-made address from asking for a huge scan.
# Pages reached by cursor have no such limit.
MAX_PAGE = 1000

# The page's sort keys and the API filter's ordering they mean.
SORTS = {
    "name": "name",
    "-name": "-name",
    "sku": "sku",
    "-sku": "-sku",
    "on_hand": "on_hand",
    "-on_hand": "-on_hand",
    "updated": "updated",
    "-updated": "-updated",
}
DEFAULT_SORT = "name"
# A column's first click: names and quantities from the smallest, changes newest first.
FIRST_DIRECTION = {"name": "name", "sku": "sku", "on_hand": "on_hand", "updated": "-updated"}

# The parameters the address keeps, in this order, and their defaults (left out).
STATE_PARAMS = ("branch", "q", "category", "low", "min", "max", "active", "sort", "page", "cursor")
DEFAULTS = {"sort": DEFAULT_SORT, "page": "1"}


def _quantity_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal(0),
        max_value=MAX_QUANTITY,
        max_digits=QUANTITY_MAX_DIGITS,
        decimal_places=QUANTITY_DECIMAL_PLACES,
        localize=False,
    )


class StockListForm(forms.Form):
    """The list's query parameters. Filters that do not parse are reported beside their field
    and left out; sort, page and the product choice fall back to their defaults."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100, strip=True)
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=uuid.UUID)
    low = forms.BooleanField(label=_("Low stock only"), required=False)
    min = _quantity_field(_("On hand from"))
    max = _quantity_field(_("On hand up to"))
    active = forms.ChoiceField(
        label=_("Products"),
        required=False,
        choices=[("", _("Active only")), ("all", _("All, inactive too"))],
    )
    sort = forms.CharField(required=False)
    page = forms.CharField(required=False)
    cursor = forms.CharField(required=False, max_length=Keyset.max_cursor_length)

    def __init__(self, data: QueryDict, *, categories: list[Category]) -> None:
        super().__init__(data)
        self.fields["category"].choices = [("", _("Every category"))] + [
            (str(category.pk), category.name) for category in categories
        ]

    def clean_active(self) -> str:
        return self.cleaned_data["active"] or ""

    def clean_sort(self) -> str:
        sort = self.cleaned_data["sort"]
        return sort if sort in SORTS else DEFAULT_SORT

    def clean_page(self) -> int:
        page = self.cleaned_data["page"]
        number = int(page) if page.isascii() and page.isdigit() else 1
        return min(max(number, 1), MAX_PAGE)

    def clean(self) -> dict:
        cleaned = super().clean()
        low, high = cleaned.get("min"), cleaned.get("max")
        if low is not None and high is not None and high < low:
            self.add_error("max", _("This is less than the lowest quantity asked for."))
        return cleaned

    def filter_data(self) -> dict[str, str]:
        """The API filter's parameters for what this form asks."""
        self.is_valid()
        data = {"ordering": SORTS[self.cleaned_data.get("sort", DEFAULT_SORT)]}
        value = self.cleaned_data.get
        if value("q"):
            data["q"] = value("q")
        if value("category"):
            data["category"] = str(value("category"))
        if value("low"):
            data["below_threshold"] = "true"
        if value("min") is not None and "min" not in self.errors:
            data["min_on_hand"] = str(value("min"))
        if value("max") is not None and "max" not in self.errors:
            data["max_on_hand"] = str(value("max"))
        if value("active") != "all":
            data["active"] = "true"
        return data

    @property
    def narrows(self) -> bool:
        """Whether any filter (beyond active products) is in force."""
        value = self.cleaned_data.get
        return bool(
            value("q")
            or value("category")
            or value("low")
            or value("min") is not None
            or value("max") is not None
            or "min" in self.errors
            or "max" in self.errors
        )


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    href: str
    aria_sort: str | None


@login_required
@require_GET
@replica_reads
def stock_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    branches = accounts_selectors.viewable_branches(user)
    try:
        branch = accounts_selectors.chosen_branch(branches, request.GET.get("branch"))
    except UnknownBranch as error:
        raise Http404(error.message) from None
    categories = list(Category.objects.only("pk", "name").order_by("name"))
    form = StockListForm(request.GET, categories=categories)
    form.is_valid()
    sort = form.cleaned_data["sort"]
    page = form.cleaned_data["page"]

    levels = selectors.stock_levels(user)
    if branch is not None:
        levels = levels.filter(branch=branch)
    levels = StockLevelFilter(form.filter_data(), queryset=levels).qs

    # No COUNT of the branch per request: on a 20,000-product branch the total is most of a
    # page's database time, and each keystroke of the search asks for a page. One row more
    # than a page says whether there is a next one; the total is exact for free on the last
    # page, and counted only when someone asks for it (``count=1``, one COUNT of the
    # filtered rows).
    listed, cursor = _read_page(levels, form.cleaned_data.get("cursor") or "", page)
    rows, position = listed.rows, listed.position
    if cursor is not None:
        page = position // PER_PAGE + 1
    if not listed.has_next and (rows or position == 0):
        total = position + len(rows)
    elif request.GET.get("count") == "1":
        total = levels.count()
    else:
        total = None

    state = _state(request.GET, branch, sort=sort, page=page, cursor=cursor)
    if listed.keyset is None:  # an order no keyset can seek: pages by number
        next_query = _query(state, page=page + 1) if listed.has_next else None
        previous_query = _query(state, page=page - 1) if page > 1 else None
    else:
        next_cursor = listed.next_cursor()
        next_query = _query(state, page=1, cursor=next_cursor) if next_cursor else None
        previous_cursor = listed.previous_cursor()
        if previous_cursor and cursor is None and position <= PER_PAGE:
            previous_query = _query(state, page=1)  # before page 2 of an old address
        elif previous_cursor:
            previous_query = _query(state, page=1, cursor=previous_cursor)
        else:
            previous_query = None
    context = {
        "form": form,
        "branch": branch,
        "branch_code": branch.code if branch else "all",
        "show_branch": branch is None,
        "rows": [_row(values) for values in rows],
        "labels": _row_labels(),
        "columns": _columns(state, sort),
        "page": page,
        "past_end": not rows and (page > 1 or cursor is not None),
        "first": position + 1,
        "last": position + len(rows),
        "total": total,
        "has_next": listed.has_next,
        "previous_query": previous_query,
        "next_query": next_query,
        "first_query": _query(state, page=1, cursor=""),
        "count_query": _query(state, count="1"),
        "clear_query": _query({"branch": state.get("branch", "")}),
        "sort": sort,
        "row_query": "?with=branch" if branch is None else "",
        # A partial carries its fields' errors out of band: the form is not swapped, so
        # what someone is typing is never overwritten.
        "oob_errors": wants_partial(request),
    }
    response = render_page(request, "stock/list.html", context, partial="stock/_list_results.html")
    if wants_partial(request):
        # Whatever the request carried, the address shows the state in its tidy form.
        push_url(response, reverse("stock-list") + _query(state))
    return response


@login_required
@require_GET
def stock_row(request: HttpRequest, level_id: uuid.UUID) -> HttpResponse:
    """One row of the list, as it is now: what a live refresh swaps in place."""
    values = selectors.level_rows(selectors.stock_levels(request.user).filter(pk=level_id)).first()
    if values is None:
        raise Http404(f"No stock level with id {level_id}.")
    context = {
        "row": _row(values),
        "labels": _row_labels(),
        "show_branch": request.GET.get("with") == "branch",
        "row_query": "?with=branch" if request.GET.get("with") == "branch" else "",
        # Fetched by a live refresh: the row arrives highlighted, so the change catches
        # the eye whatever the script does after swapping it in.
        "flash": bool(request.htmx),
    }
    return render(request, "stock/_list_row.html", context)


def _read_page(levels: QuerySet[StockLevel], text: str, page: int) -> tuple[KeysetPage, str | None]:
    """The page a ``cursor`` leads to, or else page number ``page`` (by offset), and the
    cursor it was read by. A cursor that is not this list's, in this order, means the first
    page, as a page number that does not parse does."""
    keyset = Keyset.of(levels)
    if text and keyset is not None:
        try:
            cursor = keyset.decode(text)
        except InvalidCursor:
            page = 1
        else:
            return keyset.page(levels, cursor, PER_PAGE, selectors.level_rows), text
    offset = (page - 1) * PER_PAGE
    rows = list(selectors.level_rows(levels)[offset : offset + PER_PAGE + 1])
    return KeysetPage(keyset, rows[:PER_PAGE], offset, len(rows) > PER_PAGE, offset > 0), None


def _row(values: dict) -> dict:
    """What a row of the list shows of one ``selectors.level_rows`` row, in words: a page
    holds many rows, and working it out here costs a fraction of template tags per row."""
    threshold = selectors.row_threshold(values)
    level_id = str(values["id"])
    updated_at = timezone.localtime(values["updated_at"])
    return {
        "id": level_id,
        "url": _LEVEL_URL.replace(_SOME_ID, level_id),
        "refresh_url": _ROW_URL.replace(_SOME_ID, level_id),
        "name": values["product__name"],
        "sku": values["product__sku"],
        "active": values["product__is_active"],
        "category": values["product__category__name"],
        "branch_code": values["branch__code"],
        "on_hand": show_quantity(values["on_hand"]),
        "unit": Unit(values["product__unit"]).label,
        "threshold": show_quantity(threshold),
        "low": values["on_hand"] < threshold,
        "updated_iso": updated_at.isoformat(),
        "updated_title": formats.date_format(updated_at, "DATETIME_FORMAT"),
        "updated_since": gettext("%(since)s ago") % {"since": timesince(updated_at)},
    }


# Each row links to its level and refreshes from its own address: reversed once, not twice
# a row.
_SOME_ID = "00000000-0000-0000-0000-000000000000"
_LEVEL_URL = reverse_lazy("stock-level", args=[_SOME_ID])
_ROW_URL = reverse_lazy("stock-row", args=[_SOME_ID])


def _row_labels() -> dict[str, str]:
    """The column names each row repeats (for narrow screens), translated once a page."""
    return {
        "product": gettext("Product"),
        "sku": gettext("SKU"),
        "category": gettext("Category"),
        "branch": gettext("Branch"),
        "on_hand": gettext("On hand"),
        "threshold": gettext("Threshold"),
        "updated": gettext("Updated"),
        "inactive": gettext("inactive"),
        "low": gettext("Low"),
    }


def _state(
    params: QueryDict, branch: Branch | None, *, sort: str, page: int, cursor: str | None
) -> dict[str, str]:
    """The list's parameters worth keeping in an address: filters as entered (one that did
    not parse stays, with its error), the sort and the place in the list as understood (the
    cursor, else the page number), the branch by code."""
    state = {name: params.get(name, "").strip() for name in STATE_PARAMS}
    state.update(sort=sort, page="1" if cursor else str(page), cursor=cursor or "")
    state["branch"] = branch.code if branch else ("all" if params.get("branch") else "")
    return {name: value for name, value in state.items() if value and value != DEFAULTS.get(name)}


def _query(state: dict[str, str], **changes) -> str:
    merged = {**state, **{name: str(value) for name, value in changes.items()}}
    kept = QueryDict(mutable=True)
    for name in (*STATE_PARAMS, "count"):
        value = merged.get(name, "")
        if value and value != DEFAULTS.get(name):
            kept[name] = value
    return "?" + kept.urlencode() if kept else "?"


def _columns(state: dict[str, str], sort: str) -> dict[str, Column]:
    labels = {
        "name": _("Product"),
        "sku": _("SKU"),
        "on_hand": _("On hand"),
        "updated": _("Updated"),
    }
    columns = {}
    for key, label in labels.items():
        if sort == key:
            aria, target = "ascending", f"-{key}"
        elif sort == f"-{key}":
            aria, target = "descending", key
        else:
            aria, target = None, FIRST_DIRECTION[key]
        columns[key] = Column(key, label, _query(state, sort=target, page=1), aria)
    return columns
