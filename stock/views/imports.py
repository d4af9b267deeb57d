"""The import pages: choose what to import and upload it (/import/), see what the file
would change with every row's errors (/import/<id>/), and apply it all or nothing.

Products and categories are for ADMINs; a branch's opening stock and stock counts for whoever
counts stock there (its MANAGERs; ADMINs anywhere). STAFF are refused the page (403), as on
the audit page; an import of a branch the reader may not manage answers 404.

The rows checked at upload are kept server-side (``StockImport``): applying reads them from
there, never from the browser. Uploading and applying act once each (``OnceForm``). Applying
is a worker's (stock.tasks): a long file takes longer than a request may; the preview shows
it being applied, asking every POLL_SECONDS (or, without JavaScript, reloading itself),
then how it went.
"""

import uuid
import zoneinfo
from pathlib import PurePath
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions
from accounts.permissions import Action
from branches.models import Branch
from catalog.imports import MAX_SHOWN_ERRORS
from inventory_project.kernel.errors import DomainError, NotFound, NotPermitted
from inventory_project.kernel.once import OnceForm, apply_once
from inventory_project.kernel.pages import render_page
from stock import imports, services
from stock.imports import ENCODINGS, MAX_BYTES, MAX_ROWS
from stock.models import ImportKind, ImportStatus, StockImport
from stock.views.refusals import chosen_branch, refused, status_of

HISTORY = 10
# How often the page of an import being applied asks how it is going.
POLL_SECONDS = 2
SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")

# What each kind of file holds, for the page: column, required, what it says, example.
FORMATS = {
    ImportKind.PRODUCTS: {
        "title": _("Products and categories"),
        "lead": _(
            "Adds the products whose SKU is new and changes the others. A product is found "
            "by its SKU whatever its case; an empty optional cell leaves an existing "
            "product's value as it is."
        ),
        "example": "examples/products.csv",
        "columns": [
            ("sku", True, _("Letters, digits and . _ / - (at most 64)."), "BEV-0001"),
            ("name", True, _("At most 200 characters."), "Sparkling water, 0.5 l"),
            (
                "category",
                False,
                _("An existing category, or a new one when asked to create them."),
                "Beverages",
            ),
            (
                "unit",
                False,
                format_lazy("pcs, box, pack, kg, g, l, ml, m {}", _("(default pcs)")),
                "pcs",
            ),
            ("cost_price", False, _("At least 0, two decimals."), "0.45"),
            ("sale_price", False, _("At least 0, two decimals."), "0.79"),
            ("barcode", False, _("Unused by other products; no spaces."), "2000000000015"),
            ("low_stock_threshold", False, _("At least 0, three decimals."), "10"),
        ],
    },
    ImportKind.OPENING_STOCK: {
        "title": _("Opening stock"),
        "lead": _(
            "Receives each quantity at the branch (a receipt). Rows of 0 are left out; "
            "inactive products cannot be received."
        ),
        "example": "examples/opening-stock.csv",
        "columns": [
            ("sku", True, _("A product of the catalog."), "BEV-0001"),
            (
                "quantity",
                True,
                _("At least 0; whole numbers for pieces, boxes and packs."),
                "24",
            ),
            ("note", False, _("At most 500 characters, kept with the receipt."), ""),
        ],
    },
    ImportKind.STOCK_COUNT: {
        "title": _("Stock count"),
        "lead": _(
            "Records what was counted: on hand becomes the quantity counted, and the "
            "difference is kept as a count in the ledger (a count that confirms the books "
            "is recorded too)."
        ),
        "example": "examples/stock-count.csv",
        "columns": [
            ("sku", True, _("A product of the catalog."), "BEV-0001"),
            (
                "quantity",
                True,
                _("The quantity counted, at least 0; whole numbers for countable units."),
                "18",
            ),
            ("note", False, _("At most 500 characters, kept with the count."), ""),
        ],
    },
}


class UploadForm(OnceForm):
    kind = forms.ChoiceField(choices=ImportKind.choices, widget=forms.HiddenInput)
    branch = forms.ChoiceField(label=_("Branch"), required=False)
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV or XLSX, at most 20 MB and 100,000 rows."),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(SUFFIXES)}),
    )
    encoding = forms.ChoiceField(
        label=_("Encoding of a CSV file"), choices=ENCODINGS, initial="auto"
    )
    create_categories = forms.BooleanField(
        label=_("Create the categories the file names that do not exist yet"), required=False
    )

    def __init__(self, *args, kind: str, branches: list[Branch], **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", f"{kind.lower()}-%s")
        super().__init__(*args, **kwargs)
        self.import_kind = kind
        self.slug = kind.lower()
        self.fields["kind"].initial = kind
        if kind == ImportKind.PRODUCTS:
            del self.fields["branch"]
        else:
            del self.fields["create_categories"]
            self.fields["branch"].required = True
            self.fields["branch"].choices = [("", "—")] + [
                (b.code, f"{b.code} · {b.name}") for b in branches
            ]
        self.branches = {b.code: b for b in branches}

    def clean_kind(self) -> str:
        if self.cleaned_data["kind"] != self.import_kind:
            raise forms.ValidationError(gettext("This form is for another kind of file."))
        return self.cleaned_data["kind"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if PurePath(upload.name).suffix.lower() not in SUFFIXES:
            raise forms.ValidationError(
                gettext("Upload a CSV or XLSX file (%(suffixes)s).")
                % {"suffixes": ", ".join(SUFFIXES)}
            )
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                gettext("The file is larger than %(size)d MB; split it.")
                % {"size": MAX_BYTES // 2**20}
            )
        return upload


class ApplyForm(OnceForm):
    pass


def _may_import(user) -> bool:
    """ADMINs, and whoever counts stock somewhere (a branch's MANAGERs)."""
    return Action.COUNT_STOCK in permissions.actions_anywhere(user)


def _importable_branches(user) -> list[Branch]:
    """The active branches whose stock ``user`` may import: where they count stock."""
    branches = permissions.branches_where(user, Action.COUNT_STOCK).filter(is_active=True)
    return list(branches.order_by("code"))


def _kinds(user) -> list[str]:
    kinds = [ImportKind.OPENING_STOCK, ImportKind.STOCK_COUNT]
    if permissions.is_admin(user):
        kinds.insert(0, ImportKind.PRODUCTS)
    return kinds


@login_required
@require_http_methods(["GET", "POST"])
def choose(request: HttpRequest) -> HttpResponse:
    """What may be imported, the format of each with an example file, an upload form for
    each, and the reader's latest imports. Posted, the upload: a preview to look at, or
    the form again with what is wrong with the file."""
    user = request.user
    if not _may_import(user):
        return refused(
            request, NotPermitted(gettext("Only managers and administrators import files."))
        )
    branches = _importable_branches(user)
    visible = list(permissions.visible_branches(user).order_by("code"))
    chosen = chosen_branch(request, visible)
    initial_branch = chosen.code if chosen and chosen.code in {b.code for b in branches} else ""
    if not initial_branch and len(branches) == 1:
        initial_branch = branches[0].code
    kinds = _kinds(user)
    forms_by_kind = {
        kind: UploadForm(kind=kind, branches=branches, initial={"branch": initial_branch})
        for kind in kinds
    }
    status = 200
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        if kind not in kinds:
            if kind in ImportKind.values:
                return refused(
                    request,
                    NotPermitted(gettext("Only an administrator can import the catalog.")),
                )
            raise Http404("No such import.")
        code = request.POST.get("branch", "").strip()
        if kind != ImportKind.PRODUCTS and code and code not in {b.code for b in branches}:
            # A branch the reader sees but may not count at is refused; any other is unknown.
            if code not in {b.code for b in visible}:
                raise Http404("No such branch.")
            return refused(
                request,
                NotPermitted(gettext("You may not import stock at %(branch)s.") % {"branch": code}),
            )
        form = UploadForm(request.POST, request.FILES, kind=kind, branches=branches)
        forms_by_kind[kind] = form
        if form.is_valid():
            response = _upload(request, form)
            if response is not None:
                return response
        status = 400
    context = {
        "cards": [
            {
                "kind": kind,
                **FORMATS[kind],
                "form": forms_by_kind[kind],
                "example_url": static(FORMATS[kind]["example"]),
            }
            for kind in kinds
        ],
        "history": _history(user),
        "max_rows": MAX_ROWS,
        "max_megabytes": MAX_BYTES // 2**20,
    }
    return render_page(request, "stock/imports/choose.html", context, status=status)


def _upload(request: HttpRequest, form: UploadForm) -> HttpResponse | None:
    """Read and check the posted file once; None, having put the refusal on the form,
    when it cannot be imported."""
    user = request.user
    data = form.cleaned_data
    upload = data["file"]
    branch = form.branches.get(data.get("branch") or "")

    def apply() -> dict:
        stock_import = services.preview_import(
            actor=user,
            kind=form.import_kind,
            file_name=PurePath(upload.name).name,
            data=upload.read(),
            branch_id=branch.pk if branch else None,
            encoding=data["encoding"],
            create_categories=data.get("create_categories", False),
        )
        return {"import": str(stock_import.pk)}

    try:
        scope = f"import:upload:{form.import_kind}"
        result, _replayed = apply_once(user, data["once"], scope, apply)
    except NotFound as error:
        raise Http404(error.message) from None
    except NotPermitted as error:
        return refused(request, error)
    except DomainError as error:
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
        return None
    return redirect("import", result["import"])


def _history(user) -> list[StockImport]:
    return list(imports.visible_imports(user)[:HISTORY])


def _visible_import(user, import_id: uuid.UUID) -> StockImport:
    stock_import = (
        imports.visible_imports(user)
        .select_related("apply_requested_by")
        .filter(pk=import_id)
        .first()
    )
    if stock_import is None:
        raise Http404("No such import.")
    return stock_import


@login_required
@require_http_methods(["GET"])
def preview(request: HttpRequest, import_id: uuid.UUID) -> HttpResponse:
    """What the file changes: counts, a sample of the changes, every row's errors (the
    first ones in full), and the button that applies it while it can be."""
    if not _may_import(request.user):
        return refused(
            request, NotPermitted(gettext("Only managers and administrators import files."))
        )
    stock_import = _visible_import(request.user, import_id)
    return _preview_page(request, stock_import)


def _preview_page(
    request: HttpRequest,
    stock_import: StockImport,
    *,
    form: ApplyForm | None = None,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    twin = (
        imports.applied_twin(stock_import) if stock_import.status != ImportStatus.APPLIED else None
    )
    summary = stock_import.summary or {}
    applying = services.import_being_applied(stock_import)
    # A worker that died while applying it wrote nothing: its lease over, Apply is offered.
    stalled = stock_import.status == ImportStatus.APPLYING and not applying
    can_apply = (
        (stock_import.status == ImportStatus.PREVIEWED or stalled)
        and not stock_import.error_count
        and summary.get("to_apply", 0) > 0
        and twin is None
    )
    context = {
        "import": stock_import,
        "format": FORMATS[stock_import.kind],
        "summary": summary,
        "twin": twin,
        "applying": applying,
        "stalled": stalled,
        "can_apply": can_apply,
        "form": form or ApplyForm(),
        "refusal": refusal,
        "errors_hidden": max(0, stock_import.error_count - len(stock_import.errors)),
        "shown_errors": MAX_SHOWN_ERRORS,
        "is_products": stock_import.kind == ImportKind.PRODUCTS,
        "is_opening": stock_import.kind == ImportKind.OPENING_STOCK,
        "done_url": _done_url(stock_import),
        "audit_url": _audit_url(stock_import),
        "poll_seconds": POLL_SECONDS,
    }
    return render_page(
        request,
        "stock/imports/preview.html",
        context,
        partial="stock/imports/_preview.html",
        status=status,
    )


def _done_url(stock_import: StockImport) -> str:
    if stock_import.kind == ImportKind.PRODUCTS:
        return reverse("products")
    return reverse("stock-list") + f"?branch={stock_import.branch.code}"


def _audit_url(stock_import: StockImport) -> str:
    """The ledger of the movements an applied stock file recorded: its branch, its kind,
    who applied it, on the day it was applied (the branch's day)."""
    if stock_import.kind == ImportKind.PRODUCTS or stock_import.applied_at is None:
        return ""
    kind = "RECEIPT" if stock_import.kind == ImportKind.OPENING_STOCK else "COUNT"
    zone = zoneinfo.ZoneInfo(stock_import.branch.timezone)
    day = stock_import.applied_at.astimezone(zone).date().isoformat()
    query = urlencode(
        {
            "branch": stock_import.branch.code,
            "kind": kind,
            "actor": str(stock_import.applied_by_id),
            "from": day,
            "to": day,
        }
    )
    return f"{reverse('audit')}?{query}"


@login_required
@require_POST
def apply(request: HttpRequest, import_id: uuid.UUID) -> HttpResponse:
    """Ask a worker to apply the previewed file, once however often the button is pressed;
    the import's page then shows it being applied, and how it went."""
    user = request.user
    if not _may_import(user):
        return refused(
            request, NotPermitted(gettext("Only managers and administrators import files."))
        )
    stock_import = _visible_import(user, import_id)
    form = ApplyForm(request.POST)
    if not form.is_valid():
        return _preview_page(
            request,
            stock_import,
            form=form,
            refusal=gettext("The form was incomplete; press Apply again."),
            status=400,
        )

    def run() -> dict:
        queued = services.queue_import(actor=user, import_id=stock_import.pk)
        # Asked now, or answered as it was (applied, or being applied already).
        return {"asked": queued.apply_requested_at != stock_import.apply_requested_at}

    try:
        result, replayed = apply_once(user, form.cleaned_data["once"], f"import:{import_id}", run)
    except NotFound as error:
        raise Http404(error.message) from None
    except NotPermitted as error:
        return refused(request, error)
    except DomainError as error:
        stock_import.refresh_from_db()
        return _preview_page(
            request, stock_import, form=form, refusal=error.message, status=status_of(error)
        )
    # Applied by now when the worker runs in this process (eager, as under make run), or
    # back to PREVIEWED when the queue did not answer (the page says why).
    stock_import.refresh_from_db(fields=["status", "apply_error"])
    asked_now = result["asked"] and not replayed
    if stock_import.status == ImportStatus.APPLIED:
        if asked_now:
            messages.success(request, gettext("The file was applied."))
        else:
            messages.info(request, gettext("The file was applied already; nothing more was done."))
    elif stock_import.status == ImportStatus.APPLYING:
        if asked_now:
            messages.info(request, gettext("The file is being applied; this page shows when."))
        else:
            messages.info(request, gettext("The file is being applied already."))
    return redirect("import", stock_import.pk)
