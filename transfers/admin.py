from typing import Any

from django.contrib import admin
from django.contrib.admin.helpers import InlineAdminFormSet

from inventory_project.kernel.admin import ReadOnlyAdmin
from stock.quantities import format_quantity
from transfers.models import Transfer, TransferEvent, TransferLine


class _Labelled:
    """An inline row's object as the admin heads its row: by ``label`` rather than the
    model's own text, which names related rows by id."""

    def __init__(self, obj: Any, label: str) -> None:
        self._obj = obj
        self._label = label

    def __getattr__(self, name: str) -> Any:
        return getattr(self._obj, name)

    def __str__(self) -> str:
        return self._label


class _LabelledInlineAdminFormSet(InlineAdminFormSet):
    def __iter__(self):
        for form in super().__iter__():
            if form.original is not None:
                form.original = _Labelled(form.original, self.opts.label(form.original))
            yield form


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def label(self, obj: Any) -> str:
        """What heads the object's row."""
        return str(obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TransferLineInline(_ReadOnlyInline):
    model = TransferLine
    fields = ["product", "unit", "requested_quantity", "shipped_quantity", "received_quantity"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    def label(self, line: TransferLine) -> str:
        return f"{line.product.sku} · {line.product.name}"

    @admin.display(description="unit")
    def unit(self, line: TransferLine) -> str:
        return line.product.unit

    @admin.display(description="requested")
    def requested_quantity(self, line: TransferLine) -> str:
        return format_quantity(line.requested)

    @admin.display(description="shipped")
    def shipped_quantity(self, line: TransferLine) -> str:
        return "—" if line.shipped is None else format_quantity(line.shipped)

    @admin.display(description="received")
    def received_quantity(self, line: TransferLine) -> str:
        return format_quantity(line.received)


class TransferEventInline(_ReadOnlyInline):
    model = TransferEvent
    fields = ["created_at", "actor", "step", "from_status", "to_status", "note"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def label(self, event: TransferEvent) -> str:
        # The formset gives each event its transfer, the page's own (branches read once).
        transfer = event.transfer
        return (
            f"{transfer.reference} · {event.get_step_display()} · "
            f"{transfer.from_branch.code} → {transfer.to_branch.code}"
        )


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    """Transfers move only through their workflow (the app and the API); the back office
    looks at them, their lines and their history."""

    list_display = [
        "reference",
        "kind",
        "status",
        "source",
        "destination",
        "requested_by",
        "created_at",
    ]
    list_filter = ["status", "kind"]
    list_select_related = ["from_branch", "to_branch", "requested_by"]
    search_fields = ["reference"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [TransferLineInline, TransferEventInline]

    def get_queryset(self, request):
        # The change page shows both branches and the requester; read them with the transfer.
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_inline_formsets(self, request, formsets, inline_instances, obj=None):
        inline_formsets = super().get_inline_formsets(request, formsets, inline_instances, obj)
        # Django builds them with no hook for the class; only how rows are headed changes.
        for inline_formset in inline_formsets:
            inline_formset.__class__ = _LabelledInlineAdminFormSet
        return inline_formsets

    @admin.display(description="from", ordering="from_branch__code")
    def source(self, transfer: Transfer) -> str:
        return transfer.from_branch.code

    @admin.display(description="to", ordering="to_branch__code")
    def destination(self, transfer: Transfer) -> str:
        return transfer.to_branch.code
