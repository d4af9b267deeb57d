"""The item page: one product at one branch, its threshold, its alerts and its recent ledger."""

import uuid
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts import permissions
from accounts.permissions import Action, AnyUser
from inventory_project.kernel.errors import DomainError, NotFound, NotPermitted
from stock import selectors, services
from stock.models import StockLevel, StockMovement
from stock.quantities import format_quantity

RECENT_MOVEMENTS = 20
PAST_ALERTS = 10


@login_required
@require_GET
def stock_level(request: HttpRequest, level_id: uuid.UUID) -> HttpResponse:
    return _level_page(request, _visible_level(request.user, level_id))


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
    if level.low_stock_threshold is None:
        done = f"now uses the product's default, {format_quantity(level.threshold)}"
    else:
        done = f"is now {format_quantity(level.threshold)}"
    messages.success(
        request, f"The low-stock threshold of {level.product.sku} at {level.branch.code} {done}."
    )
    return redirect("stock-level", level.pk)


def _visible_level(user: AnyUser, level_id: uuid.UUID) -> StockLevel:
    """The level if ``user`` may see its branch; another branch's level does not exist."""
    level = (
        selectors.stock_levels(user).select_related("product__category").filter(pk=level_id).first()
    )
    if level is None:
        raise Http404(f"No stock level with id {level_id}.")
    return level


def _level_page(
    request: HttpRequest,
    level: StockLevel,
    *,
    threshold_entered: str | None = None,
    threshold_error: str | None = None,
    status: int = 200,
) -> HttpResponse:
    actions = permissions.actions_at(request.user, level.branch)
    # Alerts reach the level through their reverse relation: stock does not import alerts.
    # An alert is unresolved exactly while it has no resolved_at (a database constraint).
    alerts = level.alerts.select_related("acknowledged_by").order_by("-raised_at", "pk")
    open_alert = alerts.filter(resolved_at__isnull=True).first()
    past_alerts = alerts.filter(resolved_at__isnull=False)[:PAST_ALERTS]
    movements = level.movements.select_related("actor").order_by("-created_at", "-version")
    if threshold_entered is None and level.low_stock_threshold is not None:
        threshold_entered = format_quantity(level.low_stock_threshold)
    context = {
        "level": level,
        "product": level.product,
        "branch": level.branch,
        "on_hand": format_quantity(level.on_hand),
        "threshold": format_quantity(level.threshold),
        "own_threshold": level.low_stock_threshold is not None,
        "product_threshold": format_quantity(level.product.low_stock_threshold),
        "open_alert": _alert_row(open_alert) if open_alert else None,
        "past_alerts": [_alert_row(alert) for alert in past_alerts],
        "movements": [_movement_row(m) for m in movements[:RECENT_MOVEMENTS]],
        "may_acknowledge": Action.ACKNOWLEDGE_ALERTS in actions,
        "may_set_threshold": Action.SET_THRESHOLDS in actions,
        "threshold_entered": threshold_entered or "",
        "threshold_error": threshold_error,
        "threshold_step": "1" if level.product.is_countable else "0.001",
    }
    return render(request, "stock/level.html", context, status=status)


def _movement_row(movement: StockMovement) -> dict:
    return {
        "movement": movement,
        "delta": _signed(movement.delta),
        "on_hand_after": format_quantity(movement.on_hand_after),
    }


def _alert_row(alert: Model) -> dict:
    return {
        "alert": alert,
        "on_hand_at_trigger": format_quantity(alert.on_hand_at_trigger),
        "threshold_at_trigger": format_quantity(alert.threshold_at_trigger),
    }


def _signed(amount: Decimal) -> str:
    return f"+{format_quantity(amount)}" if amount > 0 else format_quantity(amount)
