from django.contrib import admin
from django.utils.html import format_html_join

from inventory_project.kernel.admin import ReadOnlyAdmin
from stock.quantities import format_quantity
from transfers.models import (
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    PurchaseReceipt,
    Transfer,
    TransferEvent,
    TransferLine,
)


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


# Purchase orders --------------------------------------------------------------------------


class PurchaseOrderLineInline(_ReadOnlyInline):
    model = PurchaseOrderLine
    fields = [
        "product",
        "supplier_sku",
        "unit",
        "ordered",
        "received",
        "unit_price",
        "receipts_made",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("product")
            .prefetch_related("receipts__actor")
        )

    @admin.display(description="unit")
    def unit(self, line: PurchaseOrderLine) -> str:
        return line.product.unit

    @admin.display(description="ordered")
    def ordered(self, line: PurchaseOrderLine) -> str:
        return format_quantity(line.quantity_ordered)

    @admin.display(description="received")
    def received(self, line: PurchaseOrderLine) -> str:
        return format_quantity(line.quantity_received)

    @admin.display(description="receipts")
    def receipts_made(self, line: PurchaseOrderLine) -> str:
        # Receipts hang off the line, not the order: listed here rather than as an inline.
        return (
            format_html_join(
                "",
                "<div>{} · {} at {} · {}{}</div>",
                (
                    (
                        f"{receipt.created_at:%Y-%m-%d %H:%M}",
                        format_quantity(receipt.quantity),
                        "—" if receipt.unit_cost is None else f"{receipt.unit_cost:f}",
                        receipt.actor,
                        f" · {receipt.reason}" if receipt.reason else "",
                    )
                    for receipt in line.receipts.all()
                ),
            )
            or "—"
        )


class PurchaseOrderEventInline(_ReadOnlyInline):
    model = PurchaseOrderEvent
    fields = ["created_at", "actor", "step", "from_status", "to_status", "note"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ReadOnlyAdmin):
    """Orders move only through their workflow (the app and the API); the back office looks
    at them, their lines with their receipts, their history and their e-mail."""

    list_display = [
        "reference",
        "status",
        "branch_code",
        "supplier_code",
        "mail_status",
        "created_by",
        "created_at",
        "expected_on",
    ]
    list_filter = ["status", "mail_status"]
    list_select_related = ["branch", "supplier", "created_by"]
    search_fields = ["reference", "supplier__code"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [PurchaseOrderLineInline, PurchaseOrderEventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.list_select_related)

    @admin.display(description="branch", ordering="branch__code")
    def branch_code(self, order: PurchaseOrder) -> str:
        return order.branch.code

    @admin.display(description="supplier", ordering="supplier__code")
    def supplier_code(self, order: PurchaseOrder) -> str:
        return order.supplier.code


@admin.register(PurchaseReceipt)
class PurchaseReceiptAdmin(ReadOnlyAdmin):
    """Each receipt against an order line, with the ledger entry it wrote."""

    list_display = ["created_at", "order", "product", "quantity", "unit_cost", "actor", "reason"]
    list_select_related = ["line__order", "line__product", "actor"]
    search_fields = ["line__order__reference", "line__product__sku"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    raw_id_fields = ["line", "movement", "actor"]

    @admin.display(description="order", ordering="line__order__reference")
    def order(self, receipt: PurchaseReceipt) -> str:
        return receipt.line.order.reference

    @admin.display(description="product", ordering="line__product__sku")
    def product(self, receipt: PurchaseReceipt) -> str:
        return receipt.line.product.sku
