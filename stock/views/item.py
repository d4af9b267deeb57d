"""The item page: one product at one branch. What is on hand, its threshold and alert, the
ledger with its filters and a chart of on hand over time, the product at the user's other
branches; and the forms that receive, issue, adjust and count it.

The figures (with the chart) and the ledger are partials of their own: refreshed live when
this level changes, swapped after a form is recorded, and served alone to HTMX
(``?part=figures``, ``?part=ledger&kind=…``). Every form also works without JavaScript, as a
page of its own at ``/stock/levels/<id>/<kind>/``.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import permissions
from accounts.models import User
from accounts.permissions import Action, AnyUser
from catalog.models import Supplier
from inventory_project.kernel.api import DOMAIN_STATUS
from inventory_project.kernel.errors import DomainError, NotFound, NotPermitted
from inventory_project.kernel.once import apply_once
from inventory_project.kernel.pages import render_page, wants_partial
from stock import selectors, services
from stock.forms import (
    AdjustForm,
    CountForm,
    IssueForm,
    LedgerFilterForm,
    MoveForm,
    ReceiveForm,
    ReorderRuleForm,
)
from stock.models import MovementKind, StockLevel, StockMovement
from stock.quantities import format_quantity, show_quantity

LEDGER_PAGE_SIZE = 25
LAST_PAGE = 100_000  # a page number beyond any ledger people page through
PAST_ALERTS = 10
CHART_DAYS = 90
CHART_MOVEMENTS = 200
# What the live partials follow (for this level only: data-live-level).
LIVE_EVENTS = "stock.changed stock.threshold_changed alert.raised alert.resolved alert.acknowledged"
PARTIALS = {"figures": "stock/_level_figures.html", "ledger": "stock/_level_ledger.html"}


@dataclass(frozen=True)
class Move:
    """One of the page's stock forms: its address, form, right and words."""

    slug: str
    form: type[MoveForm]
    action: Action
    button: Promise
    title: Promise
    submit: Promise
    apply: Callable[..., StockMovement]

    @property
    def kind(self) -> MovementKind:
        return self.form.kind


def _recorded_by(service: Callable[..., StockMovement]) -> Callable[..., StockMovement]:
    """The form applied through ``service``: its amount goes under the name the service gives
    it (``quantity``, ``delta``, ``counted``), with the reason where the form has one."""

    def apply(*, actor: User, level: StockLevel, form: MoveForm) -> StockMovement:
        data = form.cleaned_data
        extra = {name: data[name] for name in ("reason", "unit_cost") if name in form.fields}
        return service(
            actor=actor,
            branch_id=level.branch_id,
            product_id=level.product_id,
            note=data["note"],
            **{form.amount_field: form.amount},
            **extra,
        )

    return apply


MOVES = {
    move.slug: move
    for move in (
        Move(
            "receive",
            ReceiveForm,
            Action.RECEIVE_STOCK,
            _("Receive"),
            _("Receive stock"),
            _("Record receipt"),
            _recorded_by(services.receive_stock),
        ),
        Move(
            "issue",
            IssueForm,
            Action.ISSUE_STOCK,
            _("Issue"),
            _("Issue stock"),
            _("Record issue"),
            _recorded_by(services.issue_stock),
        ),
        Move(
            "adjust",
            AdjustForm,
            Action.ADJUST_STOCK,
            _("Adjust"),
            _("Adjust stock"),
            _("Record adjustment"),
            _recorded_by(services.adjust_stock),
        ),
        Move(
            "count",
            CountForm,
            Action.COUNT_STOCK,
            _("Count"),
            _("Count stock"),
            _("Record count"),
            _recorded_by(services.count_stock),
        ),
    )
}


# The page and its partials ------------------------------------------------------------------


@login_required
@require_GET
def stock_level(request: HttpRequest, level_id: uuid.UUID) -> HttpResponse:
    level = _visible_level(request.user, level_id)
    part = _part(request)
    if part is not None and wants_partial(request):
        if part == "figures":
            context = _figures(request.user, level)
        else:
            context = _ledger(level, request.GET)
        context |= {"level": level, "product": level.product, "branch": level.branch}
        response = render_page(request, "stock/level.html", context, partial=PARTIALS[part])
        if part == "ledger" and "part" not in request.GET:
            # Filtered or paged: the address shows the filters chosen, without empty ones.
            query = context["ledger_query"]
            response["HX-Push-Url"] = page_url(level) + (f"?{query}" if query else "")
        return response
    return _level_page(request, level)


@login_required
@require_POST
def set_threshold(request: HttpRequest, level_id: uuid.UUID) -> HttpResponse:
    level = _visible_level(request.user, level_id)
    entered = request.POST.get("threshold", "").strip()
    try:
        level = services.set_low_stock_threshold(
            actor=request.user,
            branch_id=level.branch_id,
            product_id=level.product_id,
            threshold=entered or None,  # blank: inherit the product's default
        )
    except NotFound as error:
        raise Http404(error.message) from None
    except DomainError as error:
        status = 403 if isinstance(error, NotPermitted) else 400
        return _level_page(
            request, level, threshold_entered=entered, threshold_error=error.message, status=status
        )
    values = {
        "sku": level.product.sku,
        "branch": level.branch.code,
        "threshold": show_quantity(level.threshold),
    }
    if level.low_stock_threshold is None:
        done = gettext(
            "The low-stock threshold of %(sku)s at %(branch)s now uses the product's default, "
            "%(threshold)s."
        )
    else:
        done = gettext("The low-stock threshold of %(sku)s at %(branch)s is now %(threshold)s.")
    messages.success(request, done % values)
    return redirect("stock-level", level.pk)


# The reorder rule ------------------------------------------------------------------------------


@login_required
@require_POST
def set_reorder_rule(request: HttpRequest, level_id: uuid.UUID) -> HttpResponse:
    """Set the level's reorder rule from its form, or remove it (``clear``), once however
    often it is sent; a refused form comes back with what was typed and why."""
    level = _visible_level(request.user, level_id)
    user = request.user
    if Action.ORDER_STOCK not in permissions.actions_at(user, level.branch):
        refusal = gettext("You may not %(action)s at %(branch)s.") % {
            "action": Action.ORDER_STOCK.label,
            "branch": level.branch.code,
        }
        return _level_page(request, level, rule_refusal=refusal, status=403)
    clearing = "clear" in request.POST
    form = _rule_form(level, data=request.POST)
    if clearing:
        # Only the key matters for removing the rule; the figures typed are not read.
        for name in ("minimum", "maximum", "supplier"):
            form.fields[name].required = False
    if not form.is_valid():
        return _level_page(request, level, rule_form=form, status=400)
    data = form.cleaned_data

    def apply() -> dict:
        if clearing:
            services.clear_reorder_rule(
                actor=user, branch_id=level.branch_id, product_id=level.product_id
            )
            return {"cleared": True}
        services.set_reorder_rule(
            actor=user,
            branch_id=level.branch_id,
            product_id=level.product_id,
            minimum=data["minimum"],
            maximum=data["maximum"],
            supplier_id=data["supplier"] or None,
        )
        return {"cleared": False}

    try:
        result, _replayed = apply_once(user, data["once"], f"stock:reorder-rule:{level.pk}", apply)
    except NotFound as error:
        raise Http404(error.message) from None
    except NotPermitted as error:
        return _level_page(request, level, rule_refusal=error.message, status=403)
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _level_page(request, level, rule_form=form, status=_status(error))
    values = {"sku": level.product.sku, "branch": level.branch.code}
    if result["cleared"]:
        done = gettext("%(sku)s at %(branch)s is replenished by the defaults again.")
    else:
        done = gettext("The reorder rule of %(sku)s at %(branch)s is saved.")
    messages.success(request, done % values)
    return redirect(page_url(level) + "#reorder-heading")


def _rule_suppliers(level: StockLevel) -> list[Supplier]:
    """The active suppliers selling the level's product: those a rule may name."""
    return list(
        Supplier.objects.filter(is_active=True, products__product_id=level.product_id).order_by(
            "name"
        )
    )


def _rule_form(
    level: StockLevel,
    *,
    data: QueryDict | None = None,
    terms: selectors.ReorderTerms | None = None,
) -> ReorderRuleForm:
    initial = {}
    if terms is not None and terms.from_rule:
        initial = {
            "minimum": format_quantity(terms.minimum),
            "maximum": format_quantity(terms.maximum),
            "supplier": str(level.reorder_rule.supplier_id or ""),
        }
    return ReorderRuleForm(
        data, product=level.product, suppliers=_rule_suppliers(level), initial=initial
    )


def _reorder(
    user: AnyUser,
    level: StockLevel,
    actions: frozenset[Action],
    *,
    form: ReorderRuleForm | None,
    refusal: str | None,
) -> dict[str, Any]:
    """The terms replenishment uses for the level and, for those who order stock, the form."""
    terms = selectors.reorder_terms([level.pk])[level.pk]
    supplier = Supplier.objects.filter(pk=terms.supplier_id).first() if terms.supplier_id else None
    may_order = Action.ORDER_STOCK in actions
    if may_order and form is None:
        form = _rule_form(level, terms=terms)
    return {
        "reorder": {
            "minimum": show_quantity(terms.minimum),
            "maximum": show_quantity(terms.maximum),
            "supplier": supplier,
            "from_rule": terms.from_rule,
        },
        "may_order": may_order,
        "rule_form": form if may_order else None,
        "rule_refusal": refusal,
    }


# The stock forms ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def move_stock(request: HttpRequest, level_id: uuid.UUID, kind: str) -> HttpResponse:
    """Receive, issue, adjust or count: the form (a page of its own, or the dialog's content
    for HTMX) and, posted, the movement it records, once however often it is sent."""
    move = MOVES.get(kind)
    if move is None:
        raise Http404(f"No stock form {kind[:20]!r}.")
    level = _visible_level(request.user, level_id)
    if move.action not in permissions.actions_at(request.user, level.branch):
        return _move_page(request, level, move, refusal=_refusal(move, level), status=403)
    if request.method == "GET":
        return _move_page(request, level, move, form=_move_form(move, level))

    form = _move_form(move, level, data=request.POST)
    if not form.is_valid():
        return _move_page(request, level, move, form=form, status=400)
    user = request.user

    def apply() -> dict:
        movement = move.apply(actor=user, level=level, form=form)
        return {
            "movement": str(movement.pk),
            "delta": str(movement.delta),
            "on_hand_after": str(movement.on_hand_after),
            "reason": movement.reason,
        }

    try:
        result, replayed = apply_once(
            user, form.cleaned_data["once"], f"stock:{move.slug}:{level.pk}", apply
        )
    except NotFound as error:
        raise Http404(error.message) from None
    except NotPermitted as error:
        return _move_page(request, level, move, refusal=error.message, status=403)
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _move_page(request, level, move, form=form, status=_status(error))

    done = _done_message(move, level, result)
    if replayed:
        done = gettext("Already recorded, nothing more was booked: %(done)s") % {"done": done}
    messages.success(request, done)
    if not wants_partial(request):
        return redirect("stock-level", level.pk)
    # HTMX: a fresh form in the dialog (which closes on stock:recorded), and the figures and
    # the ledger as they are now, swapped out of band.
    level = _visible_level(user, level.pk)
    context = {
        **_page_basics(level),
        **_figures(user, level),
        **_ledger(level, _current_query(request, level)),
        **_move_context(level, move, form=_move_form(move, level), in_dialog=True),
    }
    response = render_page(
        request, "stock/level_move.html", context, partial="stock/_level_recorded.html"
    )
    response["HX-Trigger"] = json.dumps(
        {"stock:recorded": {"level": str(level.pk), "kind": move.slug, "replayed": replayed}}
    )
    return response


def _move_form(move: Move, level: StockLevel, data: QueryDict | None = None) -> MoveForm:
    # Ids of their own: the page holds every form at once.
    return move.form(data, product=level.product, auto_id=f"{move.slug}-%s")


def _move_page(
    request: HttpRequest,
    level: StockLevel,
    move: Move,
    *,
    form: MoveForm | None = None,
    refusal: str | None = None,
    status: int = 200,
) -> HttpResponse:
    in_dialog = wants_partial(request)
    context = {
        **_page_basics(level),
        **_move_context(level, move, form=form, refusal=refusal, in_dialog=in_dialog),
    }
    return render_page(
        request, "stock/level_move.html", context, partial="stock/_level_form.html", status=status
    )


def _move_context(
    level: StockLevel,
    move: Move,
    *,
    form: MoveForm | None,
    refusal: str | None = None,
    in_dialog: bool,
) -> dict[str, Any]:
    return {
        "move": move,
        "form": form,
        "refusal": refusal,
        "in_dialog": in_dialog,
        "on_hand": show_quantity(level.on_hand),
    }


def _status(error: DomainError) -> int:
    return next((code for kind, code in DOMAIN_STATUS.items() if isinstance(error, kind)), 400)


def _refusal(move: Move, level: StockLevel) -> str:
    return gettext("You may not %(action)s at %(branch)s.") % {
        "action": move.action.label,
        "branch": level.branch.code,
    }


def _done_message(move: Move, level: StockLevel, result: dict) -> str:
    delta = Decimal(result["delta"])
    values = {
        "amount": show_quantity(abs(delta)),
        "delta": _signed(delta),
        "on_hand": show_quantity(Decimal(result["on_hand_after"])),
        "unit": level.product.get_unit_display(),
        "sku": level.product.sku,
        "branch": level.branch.code,
    }
    if move.kind == MovementKind.RECEIPT:
        text = gettext(
            "Received %(amount)s %(unit)s of %(sku)s at %(branch)s; %(on_hand)s on hand."
        )
    elif move.kind == MovementKind.ISSUE:
        text = gettext("Issued %(amount)s %(unit)s of %(sku)s at %(branch)s; %(on_hand)s on hand.")
    elif move.kind == MovementKind.ADJUSTMENT:
        text = gettext("Adjusted %(sku)s at %(branch)s by %(delta)s; %(on_hand)s on hand.")
    else:
        text = gettext(
            "Counted %(on_hand)s %(unit)s of %(sku)s at %(branch)s (a difference of %(delta)s)."
        )
    return text % values


# What the page shows ------------------------------------------------------------------------


def _visible_level(user: AnyUser, level_id: uuid.UUID) -> StockLevel:
    """The level if ``user`` may see its branch; another branch's level does not exist."""
    level = (
        selectors.stock_levels(user).select_related("product__category").filter(pk=level_id).first()
    )
    if level is None:
        raise Http404(f"No stock level with id {level_id}.")
    return level


def _part(request: HttpRequest) -> str | None:
    """The partial an HTMX request asks for: by ``?part=``, or by the element it targets."""
    part = request.GET.get("part")
    if part is None and request.htmx:
        part = {"level-figures": "figures", "level-ledger": "ledger"}.get(request.htmx.target)
    return part if part in PARTIALS else None


def _level_page(
    request: HttpRequest,
    level: StockLevel,
    *,
    threshold_entered: str | None = None,
    threshold_error: str | None = None,
    rule_form: ReorderRuleForm | None = None,
    rule_refusal: str | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    actions = permissions.actions_at(user, level.branch)
    past_alerts = level.alerts.select_related("acknowledged_by").filter(resolved_at__isnull=False)
    if threshold_entered is None and level.low_stock_threshold is not None:
        threshold_entered = format_quantity(level.low_stock_threshold)
    context = {
        **_page_basics(level),
        **_figures(user, level, actions),
        **_ledger(level, request.GET),
        "moves": [
            {"move": move, "form": _move_form(move, level)}
            for move in MOVES.values()
            if move.action in actions
        ],
        "past_alerts": [
            _alert_row(alert) for alert in past_alerts.order_by("-raised_at", "pk")[:PAST_ALERTS]
        ],
        "may_set_threshold": Action.SET_THRESHOLDS in actions,
        "threshold_entered": threshold_entered or "",
        "threshold_error": threshold_error,
        "threshold_step": "1" if level.product.is_countable else "0.001",
        **_reorder(user, level, actions, form=rule_form, refusal=rule_refusal),
    }
    return render_page(request, "stock/level.html", context, status=status)


def _page_basics(level: StockLevel) -> dict[str, Any]:
    return {
        "level": level,
        "product": level.product,
        "branch": level.branch,
        "unit": level.product.get_unit_display(),
        "live_events": LIVE_EVENTS,
    }


def _figures(
    user: AnyUser, level: StockLevel, actions: frozenset[Action] | None = None
) -> dict[str, Any]:
    """On hand, the threshold in force, the unresolved alert, the chart and the product at
    the user's other branches (four queries with the user's rights, three without)."""
    if actions is None:
        actions = permissions.actions_at(user, level.branch)
    # Alerts reach the level through their reverse relation: stock does not import alerts.
    # An alert is unresolved exactly while it has no resolved_at (a database constraint).
    open_alert = (
        level.alerts.select_related("acknowledged_by").filter(resolved_at__isnull=True).first()
    )
    return {
        "live_events": LIVE_EVENTS,
        "unit": level.product.get_unit_display(),
        "on_hand": show_quantity(level.on_hand),
        "threshold": show_quantity(level.threshold),
        "own_threshold": level.low_stock_threshold is not None,
        "product_threshold": show_quantity(level.product.low_stock_threshold),
        "average_cost": None if level.average_cost is None else _cost(level.average_cost),
        "cost_price": _cost(level.product.cost_price),
        "value": _cost(
            selectors.level_value(level.on_hand, level.average_cost, level.product.cost_price),
            places=2,
        ),
        "open_alert": _alert_row(open_alert) if open_alert else None,
        "may_acknowledge": Action.ACKNOWLEDGE_ALERTS in actions,
        "chart": _chart(level),
        "elsewhere": _elsewhere(user, level),
    }


def _ledger(level: StockLevel, params: QueryDict) -> dict[str, Any]:
    """One page of the level's ledger, newest first, as the address filters it (one query:
    a page and one more row tell whether there is a next page, with no count)."""
    filters = LedgerFilterForm(params)
    filters.is_valid()
    chosen = {
        name: params[name]
        for name in filters.fields
        if params.get(name) and name in filters.cleaned_data and name not in filters.errors
    }
    # The level's movements in ledger order: the (stock_level, version) unique index serves it.
    movements = level.movements.select_related("actor").order_by("-version")
    if kind := filters.cleaned_data.get("kind"):
        movements = movements.filter(kind=kind)
    if since := filters.cleaned_data.get("since"):
        movements = movements.filter(created_at__gte=_day_start(since))
    if (until := filters.cleaned_data.get("until")) and "until" not in filters.errors:
        movements = movements.filter(created_at__lt=_day_start(until + timedelta(days=1)))
    page = _page_number(params.get("page"))
    offset = (page - 1) * LEDGER_PAGE_SIZE
    rows = list(movements[offset : offset + LEDGER_PAGE_SIZE + 1])
    has_next = len(rows) > LEDGER_PAGE_SIZE

    def query(**extra: Any) -> str:
        return urlencode({**chosen, **{k: v for k, v in extra.items() if v}})

    return {
        "filters": filters,
        "filtered": bool(chosen),
        "movements": [_movement_row(m) for m in rows[:LEDGER_PAGE_SIZE]],
        "page_number": page,
        "previous_query": query(page=page - 1 if page > 2 else None) if page > 1 else None,
        "next_query": query(page=page + 1) if has_next else None,
        "ledger_query": query(page=page if page > 1 else None),
        "ledger_refresh_query": query(page=page if page > 1 else None, part="ledger"),
    }


def page_url(level: StockLevel) -> str:
    return reverse("stock-level", args=[level.pk])


def _current_query(request: HttpRequest, level: StockLevel) -> QueryDict:
    """The ledger's filters of the page the HTMX request came from (HX-Current-URL)."""
    current = request.htmx.current_url if request.htmx else None
    if current:
        address = urlsplit(current)
        if address.path == page_url(level):
            return QueryDict(address.query)
    return QueryDict()


def _day_start(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _page_number(value: str | None) -> int:
    try:
        page = int(value or 1)
    except ValueError:
        return 1
    return min(max(page, 1), LAST_PAGE)


def _chart(level: StockLevel) -> dict[str, Any]:
    """On hand over the last CHART_DAYS days (at most the last CHART_MOVEMENTS movements) as a
    step line: where it stood before, each movement's on hand after, and now (one query)."""
    now = timezone.now()
    since = now - timedelta(days=CHART_DAYS)
    history = list(
        level.movements.filter(created_at__gte=since)
        .order_by("-version")
        .values_list("created_at", "on_hand_after", "delta")[:CHART_MOVEMENTS]
    )
    history.reverse()
    if not history:
        return {"empty": True, "days": CHART_DAYS}
    first_at, first_after, first_delta = history[0]
    if len(history) == CHART_MOVEMENTS:
        start = first_at
    else:
        start = max(since, min(level.created_at, first_at))
    points = [(start, first_after - first_delta)]
    points += [(at, after) for at, after, _delta in history]
    points.append((now, level.on_hand))
    values = [value for _at, value in points]
    top = max(max(values), level.threshold) or Decimal(1)
    width, height = 640, 180
    left, right, upper, lower = 8, 8, 12, 8
    span = (now - start).total_seconds() or 1.0

    def x(at: datetime) -> float:
        return left + (at - start).total_seconds() / span * (width - left - right)

    def y(value: Decimal) -> float:
        return upper + (1 - float(value / top)) * (height - upper - lower)

    path = [f"M{x(start):.1f},{y(points[0][1]):.1f}"]
    for at, value in points[1:]:
        path.append(f"H{x(at):.1f}V{y(value):.1f}")
    return {
        "empty": False,
        "days": CHART_DAYS,
        "width": width,
        "height": height,
        "path": "".join(path),
        "threshold_y": f"{y(level.threshold):.1f}",
        "top_y": f"{y(top):.1f}",
        "zero_y": f"{y(Decimal(0)):.1f}",
        "top": show_quantity(top),
        "start": start,
        "start_value": show_quantity(points[0][1]),
        "lowest": show_quantity(min(values)),
        "highest": show_quantity(max(values)),
        "steps": [
            {"at": at, "on_hand_after": show_quantity(after), "delta": _signed(delta)}
            for at, after, delta in reversed(history)
        ],
        "truncated": len(history) == CHART_MOVEMENTS,
    }


def _elsewhere(user: AnyUser, level: StockLevel) -> list[dict[str, Any]]:
    """The product at every branch ``user`` may view that holds a level of it (one query)."""
    levels = selectors.stock_levels(user).filter(product_id=level.product_id)
    return [
        {
            "level": other,
            "on_hand": show_quantity(other.on_hand),
            "threshold": show_quantity(other.threshold),
            "current": other.pk == level.pk,
        }
        for other in levels
    ]


def _movement_row(movement: StockMovement) -> dict:
    return {
        "movement": movement,
        "delta": _signed(movement.delta),
        "on_hand_after": show_quantity(movement.on_hand_after),
        # What a unit of it cost or was worth: empty until the level first had a cost.
        "unit_cost": "" if movement.unit_cost is None else _cost(movement.unit_cost),
    }


def _alert_row(alert: Model) -> dict:
    return {
        "alert": alert,
        "on_hand_at_trigger": show_quantity(alert.on_hand_at_trigger),
        "threshold_at_trigger": show_quantity(alert.threshold_at_trigger),
    }


def _cost(amount: Decimal, places: int = 4) -> str:
    """A cost or value in the reader's number format, with its decimals."""
    return number_format(amount, decimal_pos=places, use_l10n=True, force_grouping=True)


def _signed(amount: Decimal) -> str:
    return f"+{show_quantity(amount)}" if amount > 0 else show_quantity(amount)
