"""The report pages under /reports/: an index, and four reports each with a chart, a table,
and a CSV download of exactly the table (every page of it), for ADMINs and MANAGERs.

As on the audit page: staff are refused in words (403), a branch the reader may not view
answers 404, and days are days of the chosen branch, else of the site's time zone. Filters
travel in the address; a filter that does not parse, or a range that cannot be, is an error
beside its field, the typed value kept, and no report is drawn until it is corrected. An
HTMX request (a filter changed) gets the results section alone with the tidy address.
"""

import csv
import datetime
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from accounts import permissions
from accounts.permissions import Action
from branches.models import Branch
from catalog.models import Category
from inventory_project.kernel.db_router import replica_reads
from inventory_project.kernel.errors import NotPermitted
from inventory_project.kernel.pages import render_page, wants_partial
from stock import charts, reports
from stock.models import MovementKind
from stock.quantities import show_quantity
from stock.views.audit import FIRST_DAY, LAST_DAY, _safe
from stock.views.refusals import chosen_branch, refused

PER_PAGE = 50
MAX_PAGE = 100_000  # beyond it, OFFSET alone would be a long scan
TOP_CATEGORIES = 8
CHART_ROWS = 16  # bars in a chart of products, at most
MOVER_LIMITS = (10, 20, 50, 100)
MAX_MOVER_DAYS = 366
EXPORT_CHUNK = 2000
KIND_LABELS = dict(MovementKind.choices)


def may_report(user) -> bool:
    """ADMINs, and whoever manages a branch: as the audit page."""
    return Action.MANAGE_STAFF in permissions.actions_anywhere(user)


def _refusal(request: HttpRequest) -> HttpResponse:
    return refused(
        request, NotPermitted(gettext("Only managers and administrators read the reports."))
    )


def zone_of(branch: Branch | None) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(branch.timezone if branch is not None else settings.TIME_ZONE)


def today_in(zone: zoneinfo.ZoneInfo) -> datetime.date:
    return timezone.now().astimezone(zone).date()


# Forms ------------------------------------------------------------------------------------


class DayInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


def day_field(label) -> forms.DateField:
    return forms.DateField(label=label, required=False, localize=False, widget=DayInput())


class ReportForm(forms.Form):
    """The filters every report shares (``category``) and the rules of its days: each
    report adds its own fields and checks."""

    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=uuid.UUID)
    day_fields: tuple[str, ...] = ()

    def __init__(self, data: QueryDict, *, categories: list[tuple[str, str]], today) -> None:
        super().__init__(data, auto_id="report-%s")
        self.today = today
        self.fields["category"].choices = [("", _("Every category")), *categories]
        self.add_fields()
        for name, field in self.fields.items():
            field.widget.attrs["aria-describedby"] = f"error-{name}"

    def add_fields(self) -> None:
        pass

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-invalid"] = "true"

    def clean(self) -> dict:
        cleaned = super().clean()
        for name in self.day_fields:
            day = cleaned.get(name)
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(name, _("Enter a day between the years 1900 and 9999."))
                cleaned.pop(name, None)
        return cleaned

    def get(self, name: str, default=None):
        value = self.cleaned_data.get(name)
        return default if value in (None, "") else value

    def check_range(self, longest: int | None = None) -> None:
        start, end = self.cleaned_data.get("from"), self.cleaned_data.get("to")
        if start is not None and end is not None:
            if start > end:
                self.add_error("from", _("This is after the last day asked for."))
            elif longest is not None and (end - start).days + 1 > longest:
                self.add_error(
                    "from",
                    _("Choose at most %(days)d days: this range is %(asked)d days long.")
                    % {"days": longest, "asked": (end - start).days + 1},
                )


class StockValueForm(ReportForm):
    as_of = day_field(_("As of the end of"))
    day_fields = ("as_of",)
    field_order = ("as_of", "category")

    def clean(self) -> dict:
        cleaned = super().clean()
        day = cleaned.get("as_of")
        if day is not None and day > self.today:
            self.add_error(
                "as_of", _("This day is still to come: choose today or a day before it.")
            )
        return cleaned


class MovementsForm(ReportForm):
    granularity = forms.ChoiceField(
        label=_("Per"),
        required=False,
        choices=[("day", _("day")), ("week", _("week")), ("month", _("month"))],
    )
    to = day_field(_("To"))
    day_fields = ("from", "to")

    def add_fields(self) -> None:
        self.fields["from"] = day_field(_("From"))
        self.order_fields(["granularity", "from", "to"])
        # No category here: movements are of every product.
        del self.fields["category"]

    def clean(self) -> dict:
        cleaned = super().clean()
        self.check_range()
        granularity = cleaned.get("granularity") or "day"
        start, end = cleaned.get("from"), cleaned.get("to")
        if start is not None and end is not None and start <= end and "from" not in self.errors:
            most = reports.MAX_PERIODS[granularity]
            if reports.period_count(start, end, granularity) > most:
                self.add_error("from", _PERIOD_LIMITS[granularity] % {"most": most})
        return cleaned


_PERIOD_LIMITS = {
    "day": _("Too long to show day by day (%(most)d days at most): choose weeks or months."),
    "week": _("Too long to show week by week (%(most)d weeks at most): choose months."),
    "month": _("Too long to show month by month (%(most)d months at most)."),
}


class MoversForm(ReportForm):
    to = day_field(_("To"))
    limit = forms.TypedChoiceField(
        label=_("How many"),
        required=False,
        coerce=int,
        choices=[(str(n), str(n)) for n in MOVER_LIMITS],
    )
    day_fields = ("from", "to")

    def add_fields(self) -> None:
        self.fields["from"] = day_field(_("From"))
        self.order_fields(["from", "to", "category", "limit"])

    def clean(self) -> dict:
        cleaned = super().clean()
        self.check_range(MAX_MOVER_DAYS)
        return cleaned


class ReorderForm(ReportForm):
    page = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE, widget=forms.HiddenInput
    )


# What every report view shares ------------------------------------------------------------


@dataclass
class Scope:
    """Who reads, at which branches: ``branches`` the report covers (the one chosen, else
    all the reader may see), ``visible`` all the reader may see."""

    branch: Branch | None
    branches: list[Branch]
    visible: list[Branch]
    zone: zoneinfo.ZoneInfo


def _scope(request: HttpRequest) -> Scope:
    visible = list(permissions.visible_branches(request.user).order_by("code"))
    branch = chosen_branch(request, visible)
    return Scope(branch, [branch] if branch else visible, visible, zone_of(branch))


def _categories() -> list[tuple[str, str]]:
    return [(str(pk), name) for pk, name in Category.objects.values_list("pk", "name")]


def read_form(params: QueryDict, form_class: type[ReportForm], scope: Scope) -> ReportForm:
    """The filters as ``params`` give them, checked (days against the scope's today)."""
    form = form_class(params, categories=_categories(), today=today_in(scope.zone))
    form.is_valid()
    return form


def _state(request: HttpRequest, scope: Scope, names: Iterable[str], **changes) -> str:
    """The address's query: the branch by code and each filter as typed."""
    kept = QueryDict(mutable=True)
    if scope.branch is not None:
        kept["branch"] = scope.branch.code
    for name in names:
        value = changes.get(name, request.GET.get(name, ""))
        value = str(value).strip() if value is not None else ""
        if value:
            kept[name] = value
    return "?" + kept.urlencode() if kept else "?"


def _page(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    form: ReportForm,
    scope: Scope,
    url_name: str,
) -> HttpResponse:
    names = [name for name in form.fields if name != "page"]
    state = _state(request, scope, [*names, "page"])
    context = {
        **context,
        "form": form,
        "branch": scope.branch,
        "branches": scope.visible,
        "zone": str(scope.zone),
        "report_url": reverse(url_name),
        "export_url": reverse(f"{url_name}-csv") + _state(request, scope, names),
        "oob_errors": wants_partial(request),
        "has_errors": bool(form.errors),
    }
    name = template.rsplit("/", 1)[-1]
    partial = template.replace(name, f"_{name}")
    response = render_page(request, template, context, partial=partial)
    if wants_partial(request):
        push_url(response, reverse(url_name) + state)
    return response


def _csv_response(filename: str, header: list[str], rows: Iterable[list]) -> StreamingHttpResponse:
    """A CSV attachment written as it is read, a chunk of lines at a time."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        chunk = [writer.writerow(header)]
        for row in rows:
            chunk.append(writer.writerow([_cell(value) for value in row]))
            if len(chunk) >= EXPORT_CHUNK:
                yield "".join(chunk)
                chunk = []
        yield "".join(chunk)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return _safe(str(value))


def show_defaults(form: ReportForm, **values) -> None:
    """Fill the fields left empty with what the report used instead, so that the form says
    which days it shows (the address stays as it was typed)."""
    data = form.data.copy()
    for name, value in values.items():
        if not data.get(name, "").strip():
            data[name] = value.isoformat() if isinstance(value, datetime.date) else str(value)
    form.data = data


def _bad_export(request, template, context, form, scope, url_name) -> HttpResponse:
    response = _page(request, template, context, form=form, scope=scope, url_name=url_name)
    response.status_code = 400
    return response


def _guarded(view: Callable) -> Callable:
    @login_required
    @require_GET
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not may_report(request.user):
            return _refusal(request)
        return replica_reads(view)(request, *args, **kwargs)

    guarded.__name__ = view.__name__
    guarded.__doc__ = view.__doc__
    return guarded


def _quantity(amount: Decimal) -> str:
    return show_quantity(amount)


# The index --------------------------------------------------------------------------------


@_guarded
def index(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    query = "?" + urlencode({"branch": scope.branch.code}) if scope.branch else ""
    return render_page(
        request, "stock/reports/index.html", {"branch": scope.branch, "query": query}
    )


# Stock value ------------------------------------------------------------------------------


def read_stock_value(params: QueryDict, scope: Scope) -> tuple[StockValueForm, dict]:
    """The filters and, when they are sound, what the report found."""
    form = read_form(params, StockValueForm, scope)
    if form.errors:
        return form, {}
    today = today_in(scope.zone)
    as_of = form.get("as_of", today)
    until = None if as_of >= today else reports.end_of(as_of, scope.zone)
    rows = reports.stock_value(scope.branches, until=until, category_id=form.get("category"))
    show_defaults(form, as_of=as_of)
    return form, {"rows": rows, "as_of": as_of, "is_today": as_of >= today}


@_guarded
def stock_value(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form, found = read_stock_value(request.GET, scope)
    context = {}
    if found:
        rows = found["rows"]
        by_branch: dict[str, dict] = {}
        by_category: dict[str, Decimal] = defaultdict(Decimal)
        for row in rows:
            branch = by_branch.setdefault(
                row.branch_code,
                {"code": row.branch_code, "rows": [], "quantity": Decimal(0), "value": Decimal(0)},
            )
            branch["rows"].append(_value_row(row))
            branch["quantity"] += row.quantity
            branch["value"] += row.value
            by_category[row.category_name or ""] += row.value
        for branch in by_branch.values():
            branch["quantity_text"] = _quantity(branch["quantity"])
            branch["value_text"] = charts.money(branch["value"])
        total = sum((row.value for row in rows), start=Decimal(0))
        categories = sorted(by_category.items(), key=lambda item: (-item[1], item[0]))
        shown = [
            (name or gettext("No category"), value, charts.money(value))
            for name, value in categories[:TOP_CATEGORIES]
        ]
        rest = categories[TOP_CATEGORIES:]
        if rest:
            others = sum((value for _name, value in rest), start=Decimal(0))
            label = gettext("%(count)d other categories") % {"count": len(rest)}
            shown.append((label, others, charts.money(others)))
        context = {
            **found,
            "groups": list(by_branch.values()),
            "total_text": charts.money(total),
            "total": total,
            "category_chart": charts.bars(shown),
            "branch_chart": charts.bars(
                [(g["code"], g["value"], g["value_text"]) for g in by_branch.values()]
            )
            if len(by_branch) > 1
            else None,
        }
    return _page(
        request,
        "stock/reports/stock_value.html",
        context,
        form=form,
        scope=scope,
        url_name="report-stock-value",
    )


def _value_row(row: reports.ValueRow) -> dict:
    return {
        "branch": row.branch_code,
        "category": row.category_name,
        "products": row.products,
        "quantity": _quantity(row.quantity),
        "value": charts.money(row.value),
    }


VALUE_COLUMNS = ["as_of", "branch", "category", "products", "quantity", "value_at_cost"]


@_guarded
def stock_value_csv(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form, found = read_stock_value(request.GET, scope)
    if not found:
        return _bad_export(
            request, "stock/reports/stock_value.html", {}, form, scope, "report-stock-value"
        )
    as_of = found["as_of"]
    rows = (
        [as_of, r.branch_code, r.category_name or "", r.products, r.quantity, r.value]
        for r in found["rows"]
    )
    return _csv_response(f"stock-value-{as_of.isoformat()}.csv", VALUE_COLUMNS, rows)


# Movements --------------------------------------------------------------------------------


def read_movements(params: QueryDict, scope: Scope) -> tuple[MovementsForm, dict]:
    """The filters and, when they are sound, what the report found."""
    form = read_form(params, MovementsForm, scope)
    if form.errors:
        return form, {}
    today = today_in(scope.zone)
    granularity = form.get("granularity", "day")
    end = form.get("to", today)
    default_span = {"day": 29, "week": 7 * 12 - 1, "month": 365}[granularity]
    start = form.get("from", min(end - datetime.timedelta(days=default_span), end))
    if form.get("from") is None:
        start = reports.period_start(start, granularity)
    if reports.period_count(start, end, granularity) > reports.MAX_PERIODS[granularity]:
        start = end  # only reachable with a default start against a typed end: keep it short
    rows = reports.movement_totals(
        scope.branches, start=start, end=end, granularity=granularity, zone=scope.zone
    )
    show_defaults(form, granularity=granularity, to=end, **{"from": start})
    return form, {"rows": rows, "start": start, "end": end, "granularity": granularity}


def _period_text(start: datetime.date, granularity: str) -> str:
    if granularity == "month":
        return formats.date_format(start, "YEAR_MONTH_FORMAT")
    if granularity == "week":
        return gettext("Week of %(day)s") % {"day": formats.date_format(start, "j M Y")}
    return formats.date_format(start, "D j M Y")


def _period_tick(start: datetime.date, granularity: str) -> str:
    """A period's name on the chart's time axis: short, so that several fit."""
    return formats.date_format(start, "M Y" if granularity == "month" else "j M")


@_guarded
def movements(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form, found = read_movements(request.GET, scope)
    context = {}
    if found:
        granularity, rows = found["granularity"], found["rows"]
        by_period: dict[datetime.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for row in rows:
            for kind, n in row.counts.items():
                by_period[row.period][kind] += n
        columns = [
            (
                start,
                _period_text(start, granularity),
                _period_tick(start, granularity),
                dict(by_period.get(start, {})),
            )
            for start in reports.periods(found["start"], found["end"], granularity)
        ]
        page = _page_number(request)
        first = (page - 1) * PER_PAGE
        shown = rows[first : first + PER_PAGE]
        if not shown and page > 1:
            page, first = 1, 0
            shown = rows[:PER_PAGE]
        context = {
            **found,
            "chart": charts.stacked(columns),
            "legend": charts.legend(),
            "table": [_period_row(row, granularity) for row in shown],
            "count": len(rows),
            "first": first + 1,
            "last": first + len(shown),
            "page_number": page,
            "previous_query": _state(request, scope, [*form.fields, "page"], page=page - 1)
            if page > 1
            else None,
            "next_query": _state(request, scope, [*form.fields, "page"], page=page + 1)
            if first + PER_PAGE < len(rows)
            else None,
        }
    return _page(
        request,
        "stock/reports/movements.html",
        context,
        form=form,
        scope=scope,
        url_name="report-movements",
    )


def _page_number(request: HttpRequest) -> int:
    text = request.GET.get("page", "")
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_PAGE else 1


def _period_row(row: reports.PeriodRow, granularity: str) -> dict:
    cells = []
    for kind in charts.KINDS:
        n = row.counts.get(kind, 0)
        quantity = row.quantities.get(kind)
        cells.append(
            {
                "count": n,
                "quantity": ("+" if quantity and quantity > 0 else "") + _quantity(quantity)
                if n
                else "",
            }
        )
    return {
        "period": row.period,
        "period_text": _period_text(row.period, granularity),
        "branch": row.branch_code,
        "cells": cells,
        "total": row.total,
    }


def movement_columns() -> list[str]:
    kinds = [kind.value.lower() for kind in charts.KINDS]
    return [
        "period_start",
        "granularity",
        "branch",
        *[f"{kind}_movements" for kind in kinds],
        *[f"{kind}_quantity" for kind in kinds],
        "total_movements",
    ]


@_guarded
def movements_csv(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form, found = read_movements(request.GET, scope)
    if not found:
        return _bad_export(
            request, "stock/reports/movements.html", {}, form, scope, "report-movements"
        )
    granularity = found["granularity"]
    rows = (
        [
            row.period,
            granularity,
            row.branch_code,
            *[row.counts.get(kind, 0) for kind in charts.KINDS],
            *[row.quantities.get(kind, Decimal("0.000")) for kind in charts.KINDS],
            row.total,
        ]
        for row in found["rows"]
    )
    name = f"movements-{found['start'].isoformat()}-{found['end'].isoformat()}.csv"
    return _csv_response(name, movement_columns(), rows)


# Movers -----------------------------------------------------------------------------------


def read_movers(params: QueryDict, scope: Scope) -> tuple[MoversForm, dict]:
    """The filters and, when they are sound, what the report found."""
    form = read_form(params, MoversForm, scope)
    if form.errors:
        return form, {}
    today = today_in(scope.zone)
    end = form.get("to", today)
    start = form.get("from", end - datetime.timedelta(days=29))
    limit = form.get("limit", 20)
    since, until = reports.midnight(start, scope.zone), reports.end_of(end, scope.zone)
    category = form.get("category")
    top = reports.top_movers(
        scope.branches, since=since, until=until, limit=limit, category_id=category
    )
    slow = reports.slow_movers(scope.branches, since=since, limit=limit, category_id=category)
    show_defaults(form, to=end, limit=limit, **{"from": start})
    return form, {"top": top, "slow": slow, "start": start, "end": end, "limit": limit}


def _days_text(days: int | None) -> str:
    if days is None:
        return gettext("never")
    if days == 0:
        return gettext("today")
    return ngettext("%(days)s day ago", "%(days)s days ago", days) % {
        "days": formats.number_format(days, use_l10n=True, force_grouping=True)
    }


@_guarded
def movers(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form, found = read_movers(request.GET, scope)
    context = {}
    if found:
        now = timezone.now()
        top = [
            {
                "rank": n,
                "sku": m.sku,
                "name": m.name,
                "unit": m.unit,
                "issued": _quantity(m.issued),
                "issues": m.issues,
            }
            for n, m in enumerate(found["top"], start=1)
        ]
        slow = []
        for m in found["slow"]:
            days = reports.days_since(m.last_issue, now)
            slow.append(
                {
                    "sku": m.sku,
                    "name": m.name,
                    "unit": m.unit,
                    "on_hand": _quantity(m.on_hand),
                    "value": charts.money(m.value),
                    "last_issue": m.last_issue.astimezone(scope.zone) if m.last_issue else None,
                    "days": _days_text(days),
                }
            )
        context = {
            **found,
            "top_rows": top,
            "slow_rows": slow,
            "top_chart": charts.bars(
                [
                    (f"{m.name} ({m.unit})", m.issued, _quantity(m.issued))
                    for m in found["top"][:CHART_ROWS]
                ]
            ),
            "slow_chart": charts.bars(
                [(m.name, m.value, charts.money(m.value)) for m in found["slow"][:CHART_ROWS]]
            ),
        }
    return _page(
        request,
        "stock/reports/movers.html",
        context,
        form=form,
        scope=scope,
        url_name="report-movers",
    )


TOP_COLUMNS = ["rank", "sku", "product", "unit", "issued", "issues", "from", "to"]
SLOW_COLUMNS = [
    "sku",
    "product",
    "unit",
    "on_hand",
    "value_at_cost",
    "last_issue",
    "days_since_last_issue",
    "not_issued_since",
]


@_guarded
def movers_csv(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form, found = read_movers(request.GET, scope)
    if not found:
        return _bad_export(request, "stock/reports/movers.html", {}, form, scope, "report-movers")
    start, end = found["start"], found["end"]
    if request.GET.get("list") == "slow":
        now = timezone.now()
        rows = (
            [
                m.sku,
                m.name,
                m.unit,
                m.on_hand,
                m.value,
                m.last_issue.astimezone(scope.zone) if m.last_issue else None,
                reports.days_since(m.last_issue, now),
                start,
            ]
            for m in found["slow"]
        )
        return _csv_response(f"slow-movers-{start}-{end}.csv", SLOW_COLUMNS, rows)
    rows = (
        [n, m.sku, m.name, m.unit, m.issued, m.issues, start, end]
        for n, m in enumerate(found["top"], start=1)
    )
    return _csv_response(f"top-movers-{start}-{end}.csv", TOP_COLUMNS, rows)


# Reorder ----------------------------------------------------------------------------------


def transfer_request_url() -> str:
    """The new-transfer page, while it is being built under its name, else its path."""
    try:
        return reverse("transfer-new")
    except NoReverseMatch:
        return "/transfers/new/"


def _visible_ids(request: HttpRequest, scope: Scope) -> frozenset[uuid.UUID] | None:
    if permissions.is_admin(request.user):
        return None
    return frozenset(branch.pk for branch in scope.visible)


def _reorder_line(line: reports.ReorderLine, may_request: bool, new_url: str) -> dict:
    sources = [
        {"code": s.branch_code, "available": _quantity(s.available)} for s in line.sources[:3]
    ]
    link = None
    if may_request and line.sources:
        link = (
            new_url
            + "?"
            + urlencode(
                {
                    "kind": "request",
                    "from": line.sources[0].branch_code,
                    "to": line.branch_code,
                    "product": line.sku,
                    "quantity": reports.format_plain(line.transfer_quantity),
                }
            )
        )
    return {
        "id": str(line.level_id),
        "level_url": reverse("stock-level", args=[line.level_id]),
        "branch": line.branch_code,
        "sku": line.sku,
        "name": line.name,
        "unit": line.unit,
        "category": line.category,
        "on_hand": _quantity(line.on_hand),
        "threshold": _quantity(line.threshold),
        "minimum": _quantity(line.minimum),
        "maximum": _quantity(line.maximum),
        "from_rule": line.from_rule,
        "suggested": _quantity(line.suggested),
        "sources": sources,
        "more_sources": len(line.sources) - len(sources),
        "hidden_surplus": line.hidden_surplus,
        "transfer_url": link,
        "transfer_quantity": _quantity(line.transfer_quantity) if line.sources else "",
        "transfer_from": line.sources[0].branch_code if line.sources else "",
    }


@_guarded
def reorder(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form = read_form(request.GET, ReorderForm, scope)
    # A page number that is not one (typed into the address) means the first page, as a
    # cursor that does not parse does on the audit page.
    form.errors.pop("page", None)
    context = {}
    if not form.errors:
        page = form.get("page", 1)
        visible = _visible_ids(request, scope)
        offset = (page - 1) * PER_PAGE
        lines, more = reports.reorder_page(
            scope.branches,
            offset=offset,
            limit=PER_PAGE,
            visible=visible,
            category_id=form.get("category"),
        )
        rights = permissions.rights(request.user, scope.branches)
        new_url = transfer_request_url()
        names = [*form.fields]
        context = {
            "lines": [
                _reorder_line(line, Action.REQUEST_TRANSFER in rights.at(line.branch_id), new_url)
                for line in lines
            ],
            "first": offset + 1,
            "last": offset + len(lines),
            "page_number": page,
            "past_end": not lines and page > 1,
            "first_query": _state(request, scope, names, page=""),
            "previous_query": _state(request, scope, names, page=page - 1 if page > 2 else "")
            if page > 1
            else None,
            "next_query": _state(request, scope, names, page=page + 1) if more else None,
            "chart": charts.bars(
                [
                    (
                        f"{line.branch_code} · {line.name}",
                        line.suggested,
                        f"{_quantity(line.suggested)} {line.unit}",
                    )
                    for line in lines[:CHART_ROWS]
                ]
            ),
        }
    return _page(
        request,
        "stock/reports/reorder.html",
        context,
        form=form,
        scope=scope,
        url_name="report-reorder",
    )


REORDER_COLUMNS = [
    "branch",
    "sku",
    "product",
    "unit",
    "category",
    "on_hand",
    "threshold",
    "minimum",
    "maximum",
    "from_rule",
    "suggested_quantity",
    "surplus_elsewhere",
    "more_elsewhere_not_shown",
]


@_guarded
def reorder_csv(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form = read_form(request.GET, ReorderForm, scope)
    if form.errors:
        return _bad_export(request, "stock/reports/reorder.html", {}, form, scope, "report-reorder")
    lines = reports.reorder_all(
        scope.branches,
        visible=_visible_ids(request, scope),
        category_id=form.get("category"),
        chunk=EXPORT_CHUNK,
    )
    rows = (
        [
            line.branch_code,
            line.sku,
            line.name,
            line.unit,
            line.category or "",
            line.on_hand,
            line.threshold,
            line.minimum,
            line.maximum,
            "yes" if line.from_rule else "no",
            line.suggested,
            "; ".join(
                f"{s.branch_code}: {reports.format_plain(s.available)}" for s in line.sources
            ),
            "yes" if line.hidden_surplus else "no",
        ]
        for line in lines
    )
    day = today_in(scope.zone).isoformat()
    return _csv_response(f"reorder-{day}.csv", REORDER_COLUMNS, rows)
