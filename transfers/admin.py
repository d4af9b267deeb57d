from django.contrib import admin

from inventory_project.kernel.admin import ReadOnlyAdmin
from stock.quantities import format_quantity
from transfers.models import Transfer, TransferEvent, TransferLine


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

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

    @admin.display(description="from", ordering="from_branch__code")
    def source(self, transfer: Transfer) -> str:
        return transfer.from_branch.code

    @admin.display(description="to", ordering="to_branch__code")
    def destination(self, transfer: Transfer) -> str:
        return transfer.to_branch.code
