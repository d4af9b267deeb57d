"""The alert pages: the list of low-stock alerts (filtered, searched, sorted), and
acknowledging one or several."""

import uuid
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts import permissions
from accounts.permissions import Action
from alerts import filters, selectors, services
from alerts.models import UNRESOLVED, AlertStatus, LowStockAlert
from inventory_project.kernel.errors import DomainError, NotFound, NotPermitted
from inventory_project.kernel.once import OnceForm, apply_once
from inventory_project.kernel.pages import render_page
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


# The orders the list offers: the value in the address, its label, the columns.
SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "newest": (gettext_lazy("Newest first"), ("-raised_at", "pk")),
    "oldest": (gettext_lazy("Oldest first"), ("raised_at", "pk")),
    "product": (gettext_lazy("Product name"), ("product__name", "-raised_at", "pk")),
    "branch": (gettext_lazy("Branch"), ("branch__code", "-raised_at", "pk")),
    "on_hand": (gettext_lazy("On hand when raised"), ("on_hand_at_trigger", "-raised_at", "pk")),
}
DEFAULT_SORT = "newest"
SEARCH_MAX_LENGTH = 100
# The filters a list address carries, kept by the bulk form to come back to the same list.
FILTER_PARAMS = ("status", "branch", "product", "q", "sort")


class BulkAcknowledgeForm(OnceForm):
    alerts = forms.Field(widget=forms.MultipleHiddenInput, required=False)
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=services.NOTE_MAX_LENGTH
    )

    def clean_alerts(self) -> list[str]:
        # Malformed ids are left to the service, which answers them as unknown alerts.
        return [str(value) for value in self.cleaned_data["alerts"] or []]


@login_required
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    context = _list_context(request, request.GET)
    return render_page(request, "alerts/list.html", context, partial="alerts/_results.html")


@login_required
@require_POST
def acknowledge_selected(request: HttpRequest) -> HttpResponse:
    """Acknowledge the alerts ticked on the list, once however often the form is sent;
    refused, the list comes back with the same ticks and note."""
    form = BulkAcknowledgeForm(request.POST)
    back = reverse("alerts") + _list_query(request.POST)
    status = 400
    if form.is_valid():
        user = request.user
        ids = form.cleaned_data["alerts"]

        def apply() -> dict:
            done = services.acknowledge_alerts(
                actor=user, alert_ids=ids, note=form.cleaned_data["note"]
            )
            return {"acknowledged": len(done)}

        try:
            result, replayed = apply_once(user, form.cleaned_data["once"], "alerts:bulk", apply)
        except NotFound as error:
            # Names no alert: whether another branch's exists is not the user's to learn.
            raise Http404(error.message) from None
        except DomainError as error:
            field = error.field if error.field in form.fields else "alerts"
            form.add_error(field, error.message)
            status = 403 if isinstance(error, NotPermitted) else 400
        else:
            done = ngettext(
                "You acknowledged %(count)d alert.",
                "You acknowledged %(count)d alerts.",
                result["acknowledged"],
            ) % {"count": result["acknowledged"]}
            if replayed:
                done = _("Already recorded, nothing more was done: %(done)s") % {"done": done}
            messages.success(request, done)
            return redirect(back)
    context = _list_context(request, request.POST, bulk_form=form)
    return render_page(request, "alerts/list.html", context, status=status)


def _list_context(
    request: HttpRequest, params: QueryDict, *, bulk_form: BulkAcknowledgeForm | None = None
) -> dict:
    """The list as ``params`` (the address, or the bulk form's copy of it) ask for."""
    user = request.user
    status = params.get("status", DEFAULT_STATUS)
    if status not in STATUS_FILTERS:
        status = DEFAULT_STATUS
    sort = params.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        sort = DEFAULT_SORT
    search = params.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    branches = list(permissions.visible_branches(user).order_by("code"))
    # By code, as people read it; a branch the user may not see is no filter at all.
    branch = next((b for b in branches if b.code == params.get("branch")), None)
    product = _uuid(params.get("product", ""))

    alerts = selectors.visible_alerts(user)
    if status != "all":
        alerts = alerts.filter(status__in=STATUS_FILTERS[status][1])
    if branch is not None:
        alerts = alerts.filter(branch=branch)
    if product is not None:
        alerts = alerts.filter(product_id=product)
    if search:
        alerts = filters.search(alerts, search)
    alerts = alerts.order_by(*SORTS[sort][1])
    page = Paginator(alerts, ALERTS_PER_PAGE).get_page(params.get("page"))

    acknowledging = set(
        permissions.branches_where(user, Action.ACKNOWLEDGE_ALERTS).values_list("pk", flat=True)
    )
    if bulk_form is None:
        bulk_form = BulkAcknowledgeForm()
        selected: set[str] = set()
    else:
        selected = set(bulk_form.data.getlist("alerts"))
    kept = {
        "status": status,
        "branch": branch.code if branch else "",
        "product": str(product) if product else "",
        "q": search,
        "sort": sort,
    }
    rows = [_row(alert, acknowledging, selected) for alert in page.object_list]
    return {
        "page": page,
        "rows": rows,
        "status": status,
        "status_label": STATUS_FILTERS[status][0],
        "status_links": [
            {
                "label": label,
                "query": _query(**(kept | {"status": key})),
                "current": key == status,
            }
            for key, (label, _) in STATUS_FILTERS.items()
        ],
        "sorts": [(key, label) for key, (label, _) in SORTS.items()],
        "sort": sort,
        "q": search,
        "product": kept["product"],
        "branches": branches,
        "branch": branch,
        "filter_query": _query(**kept),
        "every_product_query": _query(**(kept | {"product": ""})),
        "kept": {name: value for name, value in kept.items() if value},
        "bulk_form": bulk_form,
        "may_bulk_acknowledge": any(row["may_acknowledge"] for row in rows),
    }


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


def _row(alert: LowStockAlert, acknowledging: set[uuid.UUID], selected: set[str]) -> dict:
    return {
        "alert": alert,
        "selected": str(alert.pk) in selected,
        "on_hand_at_trigger": show_quantity(alert.on_hand_at_trigger),
        "threshold_at_trigger": show_quantity(alert.threshold_at_trigger),
        "on_hand": show_quantity(alert.stock_level.on_hand),
        "may_acknowledge": alert.status == AlertStatus.OPEN and alert.branch_id in acknowledging,
    }


def _query(**params: str) -> str:
    """The filter as a query string, leaving out what is at its default."""
    if params.get("status") == DEFAULT_STATUS:
        params.pop("status")
    if params.get("sort") == DEFAULT_SORT:
        params.pop("sort")
    return urlencode({name: value for name, value in params.items() if value})


def _list_query(params: QueryDict) -> str:
    """``?`` and the list's filters found in ``params``, or nothing."""
    query = urlencode({name: params[name] for name in FILTER_PARAMS if params.get(name)})
    return f"?{query}" if query else ""


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _safe_next(request: HttpRequest) -> str | None:
    """The ``next`` address, if it leads back into this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None
