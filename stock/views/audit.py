"""The audit ledger: every movement of the branches a reader may view, newest first,
filtered by branch, product, kind, actor and a date range, paged by cursor, and exported as
CSV of exactly what is filtered.

For ADMINs and MANAGERs: it is the tool for reviewing who did what. STAFF read their
branch's ledger on the item pages and in the API; the rows are not secret from them, the
review of everyone's work is a manager's. A branch the reader may not view answers 404,
as on the stock list.

The export streams: rows are read through a server-side cursor in chunks and written as
they come, so a million rows never sit in the web process's memory.
"""

import csv
import datetime
import uuid
import zoneinfo
from collections.abc import Iterator

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from accounts import permissions
from accounts.models import User
from accounts.permissions import Action
from branches.models import Branch
from inventory_project.kernel.api import InvalidCursor, Keyset, KeysetPage
from inventory_project.kernel.errors import NotPermitted
from inventory_project.kernel.pages import render_page, wants_partial
from stock import selectors
from stock.models import AdjustmentReason, MovementKind, StockMovement
from stock.quantities import show_quantity
from stock.views.refusals import chosen_branch, refused

PER_PAGE = 50
EXPORT_CHUNK = 2000
STATE_PARAMS = ("branch", "product", "kind", "actor", "from", "to", "cursor")

# The export's columns: the header and the ``values_list`` path each is read from.
EXPORT_COLUMNS = (
    ("created_at", "created_at"),
    ("branch", "branch__code"),
    ("sku", "product__sku"),
    ("product", "product__name"),
    ("kind", "kind"),
    ("delta", "delta"),
    ("on_hand_after", "on_hand_after"),
    ("reason", "reason"),
    ("note", "note"),
    ("actor", "actor__email"),
    ("actor_name", "actor__full_name"),
    ("movement", "id"),
)
# A spreadsheet runs a cell starting with one of these as a formula (and some, a tab or a
# carriage return first); notes and names are typed by people.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FIRST_DAY, LAST_DAY = datetime.date(1900, 1, 1), datetime.date(9999, 12, 30)


class AuditForm(forms.Form):
    """The ledger's filters as the address carries them. A filter that does not parse is
    reported beside its field and left out."""

    product = forms.CharField(label=_("Product"), required=False, max_length=100, strip=True)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    actor = forms.TypedChoiceField(label=_("Recorded by"), required=False, coerce=uuid.UUID)
    # ``from`` is a Python keyword: the field is declared under it below.
    to = forms.DateField(label=_("To"), required=False, localize=False)
    cursor = forms.CharField(required=False, max_length=Keyset.max_cursor_length)

    def __init__(self, data: QueryDict, *, people: list[tuple[str, str]]) -> None:
        super().__init__(data)
        self.fields["from"] = forms.DateField(label=_("From"), required=False, localize=False)
        self.fields["kind"].choices = [("", _("Every kind")), *MovementKind.choices]
        self.fields["actor"].choices = [("", _("Anyone")), *people]

    def clean(self) -> dict:
        cleaned = super().clean()
        for name in ("from", "to"):
            day = cleaned.get(name)
            # Days near the calendar's ends overflow once moved into another time zone.
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(name, _("Enter a day between the years 1900 and 9999."))
        start, end = cleaned.get("from"), cleaned.get("to")
        if start is not None and end is not None and start > end:
            self.add_error("from", _("This is after the last day asked for."))
        return cleaned

    def value(self, name: str):
        """A filter's cleaned value, or None when it is empty or did not parse."""
        if name in self.errors:
            return None
        return self.cleaned_data.get(name) or None

    @property
    def narrows(self) -> bool:
        return any(self.data.get(name, "").strip() for name in STATE_PARAMS[1:-1])


def _zone(branch: Branch | None) -> zoneinfo.ZoneInfo:
    """Dates are days of the chosen branch, else of the site's time zone."""
    return zoneinfo.ZoneInfo(branch.timezone if branch is not None else settings.TIME_ZONE)


def _people(user) -> list[tuple[str, str]]:
    """Whom the actor filter offers: the people of the reader's branches and the
    administrators (who record movements anywhere), by name. One query."""
    if permissions.is_admin(user):
        people = User.objects.filter(Q(memberships__isnull=False) | Q(is_superuser=True))
    else:
        visible = permissions.visible_branches(user).values("pk")
        people = User.objects.filter(Q(memberships__branch__in=visible) | Q(is_superuser=True))
    rows = people.distinct().order_by("full_name", "email").values_list("pk", "full_name", "email")
    return [(str(pk), f"{name} ({email})" if name else email) for pk, name, email in rows]


def _may_audit(user) -> bool:
    """ADMINs, and whoever manages a branch."""
    return Action.MANAGE_STAFF in permissions.actions_anywhere(user)


def _ledger(request: HttpRequest) -> tuple[AuditForm, Branch | None, QuerySet[StockMovement]]:
    """The form read from the address, the chosen branch (404 for a hidden one) and the
    movements it selects, newest first."""
    user = request.user
    branches = list(permissions.visible_branches(user).order_by("code"))
    branch = chosen_branch(request, branches)
    form = AuditForm(request.GET, people=_people(user))
    form.is_valid()
    zone = _zone(branch)
    ledger = selectors.movements(user)
    if branch is not None:
        ledger = ledger.filter(branch=branch)
    if text := form.value("product"):
        ledger = ledger.filter(Q(product__sku__iexact=text) | Q(product__name__icontains=text))
    if kind := form.value("kind"):
        ledger = ledger.filter(kind=kind)
    if actor := form.value("actor"):
        ledger = ledger.filter(actor_id=actor)
    if start := form.value("from"):
        ledger = ledger.filter(created_at__gte=_midnight(start, zone))
    if end := form.value("to"):
        ledger = ledger.filter(created_at__lt=_midnight(end + datetime.timedelta(days=1), zone))
    form.branches = branches
    return form, branch, ledger


def _midnight(day: datetime.date, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)


@login_required
@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    if not _may_audit(request.user):
        return refused(request, NotPermitted(gettext("Only managers and administrators audit.")))
    form, branch, ledger = _ledger(request)
    page, cursor = _read_page(ledger, form.value("cursor") or "")
    zone = _zone(branch)
    state = _state(request.GET, branch, cursor)
    next_cursor, previous_cursor = page.next_cursor(), page.previous_cursor()
    context = {
        "form": form,
        "branch": branch,
        "branches": form.branches,
        "rows": [_row(values, zone) for values in page.rows],
        "first": page.position + 1,
        "last": page.position + len(page.rows),
        "page": page.position // PER_PAGE + 1,
        "next_query": _query(state, cursor=next_cursor) if next_cursor else None,
        "previous_query": (
            _query(state, cursor=previous_cursor if page.position > PER_PAGE else "")
            if previous_cursor
            else None
        ),
        "export_query": _query(state, cursor=""),
        "clear_query": _query({"branch": state.get("branch", "")}),
        "zone": str(zone),
        "oob_errors": wants_partial(request),
        "past_end": not page.rows and cursor is not None,
    }
    partial = "stock/_audit_results.html"
    response = render_page(request, "stock/audit.html", context, partial=partial)
    if wants_partial(request):
        push_url(response, reverse("audit") + _query(state))
    return response


@login_required
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse:
    if not _may_audit(request.user):
        return refused(request, NotPermitted(gettext("Only managers and administrators audit.")))
    _form, branch, ledger = _ledger(request)
    zone = _zone(branch)
    paths = [path for _, path in EXPORT_COLUMNS]
    rows = ledger.values_list(*paths).iterator(chunk_size=EXPORT_CHUNK)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        _lines(writer, rows, zone), content_type="text/csv; charset=utf-8"
    )
    day = timezone.localtime(timezone.now(), zone).date().isoformat()
    response["Content-Disposition"] = f'attachment; filename="ledger-{day}.csv"'
    return response


class _Echo:
    """A file that hands back what is written to it: ``csv.writer`` formats a row, the
    response streams it."""

    def write(self, value: str) -> str:
        return value


def _lines(writer, rows: Iterator[tuple], zone: zoneinfo.ZoneInfo) -> Iterator[str]:
    """The CSV text, a chunk of rows at a time: one write to the client per row would cost
    a system call each."""
    chunk = [writer.writerow([name for name, _ in EXPORT_COLUMNS])]
    for row in rows:
        chunk.append(writer.writerow(_cells(row, zone)))
        if len(chunk) >= EXPORT_CHUNK:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk)


def _cells(row: tuple, zone: zoneinfo.ZoneInfo) -> list[str]:
    created_at, *rest = row
    cells = [created_at.astimezone(zone).isoformat()]
    for value in rest:
        text = "" if value is None else str(value)
        cells.append(_safe(text))
    return cells


def _safe(text: str) -> str:
    """A cell a spreadsheet shows as typed rather than runs: text that starts like a
    formula gets a leading apostrophe. Quantities are written as numbers, so a negative
    delta stays a number."""
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.lstrip("+-").replace(".", "", 1).isdigit()


def _read_page(ledger: QuerySet[StockMovement], text: str) -> tuple[KeysetPage, str | None]:
    """The page ``cursor`` leads to, else the first; a cursor this list did not give out
    means the first page."""
    keyset = Keyset.of(ledger)
    if text:
        try:
            cursor = keyset.decode(text)
        except InvalidCursor:
            pass
        else:
            return keyset.page(ledger, cursor, PER_PAGE, selectors.movement_rows), text
    rows = list(selectors.movement_rows(ledger)[: PER_PAGE + 1])
    return KeysetPage(keyset, rows[:PER_PAGE], 0, len(rows) > PER_PAGE, False), None


KIND_LABELS = dict(MovementKind.choices)
REASON_LABELS = dict(AdjustmentReason.choices)


def _row(values: dict, zone: zoneinfo.ZoneInfo) -> dict:
    created_at = values["created_at"].astimezone(zone)
    delta = values["delta"]
    return {
        "id": str(values["id"]),
        "created_iso": created_at.isoformat(),
        "created": formats.date_format(created_at, "SHORT_DATETIME_FORMAT"),
        "branch_code": values["branch__code"],
        "sku": values["product__sku"],
        "name": values["product__name"],
        "level_url": reverse("stock-level", args=[values["stock_level_id"]]),
        "kind": KIND_LABELS.get(values["kind"], values["kind"]),
        "delta": ("+" if delta > 0 else "") + show_quantity(delta),
        "on_hand_after": show_quantity(values["on_hand_after"]),
        "reason": REASON_LABELS.get(values["reason"], "") if values["reason"] else "",
        "note": values["note"],
        "actor": values["actor__full_name"] or values["actor__email"],
    }


def _state(params: QueryDict, branch: Branch | None, cursor: str | None) -> dict[str, str]:
    """The parameters worth keeping in the address: filters as typed, the branch by code,
    the cursor the page was read by."""
    state = {name: params.get(name, "").strip() for name in STATE_PARAMS}
    state["cursor"] = cursor or ""
    state["branch"] = branch.code if branch else ""
    return {name: value for name, value in state.items() if value}


def _query(state: dict[str, str], **changes) -> str:
    merged = {**state, **{name: str(value) for name, value in changes.items()}}
    kept = QueryDict(mutable=True)
    for name in STATE_PARAMS:
        if merged.get(name):
            kept[name] = merged[name]
    return "?" + kept.urlencode() if kept else "?"
