"""The alert pages: the list of low-stock alerts, and acknowledging one."""

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts import permissions
from accounts.permissions import Action
from alerts import selectors, services
from alerts.models import UNRESOLVED, AlertStatus, LowStockAlert
from inventory_project.kernel.errors import DomainError, NotFound
from stock.quantities import show_quantity

ALERTS_PER_PAGE = 50

# The status filter: its value in the address, its label, the statuses it shows.
STATUS_FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "unresolved": (gettext_lazy("Open or acknowledged"), UNRESOLVED),
    "open": (gettext_lazy("Open"), (AlertStatus.OPEN,)),
    "acknowledged": (gettext_lazy("Acknowledged"), (AlertStatus.ACKNOWLEDGED,)),
    "resolved": (gettext_lazy("Resolved"), (AlertStatus.RESOLVED,)),
    "all": (gettext_lazy("All"), tuple(AlertStatus.values)),
}
DEFAULT_STATUS = "unresolved"


@login_required
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    status = request.GET.get("status", DEFAULT_STATUS)
    if status not in STATUS_FILTERS:
        status = DEFAULT_STATUS
    branches = list(permissions.visible_branches(user).order_by("code"))
    # By code, as people read it; a branch the user may not see is no filter at all.
    branch = next((b for b in branches if b.code == request.GET.get("branch")), None)

    alerts = selectors.visible_alerts(user)
    if status != "all":
        alerts = alerts.filter(status__in=STATUS_FILTERS[status][1])
    if branch is not None:
        alerts = alerts.filter(branch=branch)
    page = Paginator(alerts, ALERTS_PER_PAGE).get_page(request.GET.get("page"))

    acknowledging = set(
        permissions.branches_where(user, Action.ACKNOWLEDGE_ALERTS).values_list("pk", flat=True)
    )
    branch_code = branch.code if branch else ""
    context = {
        "page": page,
        "rows": [_row(alert, acknowledging) for alert in page.object_list],
        "status": status,
        "status_label": STATUS_FILTERS[status][0],
        "status_links": [
            {
                "label": label,
                "query": _query(status=key, branch=branch_code),
                "current": key == status,
            }
            for key, (label, _) in STATUS_FILTERS.items()
        ],
        "branches": branches,
        "branch": branch,
        "filter_query": _query(status=status, branch=branch_code),
    }
    return render(request, "alerts/list.html", context)


@login_required
@require_POST
def acknowledge(request: HttpRequest, alert_id: uuid.UUID) -> HttpResponse:
    level_id = (
        selectors.visible_alerts(request.user)
        .filter(pk=alert_id)
        .values_list("stock_level_id", flat=True)
        .first()
    )
    if level_id is None:
        raise Http404(f"No alert with id {alert_id}.")
    back = _safe_next(request) or reverse("stock-level", args=[level_id])
    try:
        alert = services.acknowledge_alert(
            actor=request.user, alert_id=alert_id, note=request.POST.get("note", "")
        )
    except NotFound as error:
        raise Http404(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(back)
    messages.success(
        request,
        _("You acknowledged the alert for %(sku)s at %(branch)s.")
        % {"sku": alert.product.sku, "branch": alert.branch.code},
    )
    return redirect(back)


def _row(alert: LowStockAlert, acknowledging: set[uuid.UUID]) -> dict:
    return {
        "alert": alert,
        "on_hand_at_trigger": show_quantity(alert.on_hand_at_trigger),
        "threshold_at_trigger": show_quantity(alert.threshold_at_trigger),
        "on_hand": show_quantity(alert.stock_level.on_hand),
        "may_acknowledge": alert.status == AlertStatus.OPEN and alert.branch_id in acknowledging,
    }


def _query(**params: str) -> str:
    """The filter as a query string, leaving out what is at its default."""
    if params.get("status") == DEFAULT_STATUS:
        params.pop("status")
    return urlencode({name: value for name, value in params.items() if value})


def _safe_next(request: HttpRequest) -> str | None:
    """The ``next`` address, if it leads back into this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None
