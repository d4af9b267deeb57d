from django.contrib import admin

from alerts.models import LowStockAlert
from stock.quantities import format_quantity


@admin.register(LowStockAlert)
class LowStockAlertAdmin(admin.ModelAdmin):
    """Alerts are raised and resolved by stock changes and acknowledged by people in the
    app; the back office only looks at them."""

    list_display = [
        "raised_at",
        "branch",
        "product",
        "status",
        "on_hand",
        "threshold",
        "acknowledged_by",
        "acknowledged_at",
        "resolved_at",
        "emailed_at",
    ]
    list_filter = ["status", "branch"]
    list_select_related = ["branch", "product", "acknowledged_by"]
    search_fields = ["product__sku", "product__name"]
    date_hierarchy = "raised_at"
    show_full_result_count = False

    @admin.display(description="on hand when raised", ordering="on_hand_at_trigger")
    def on_hand(self, alert: LowStockAlert) -> str:
        return format_quantity(alert.on_hand_at_trigger)

    @admin.display(description="threshold when raised", ordering="threshold_at_trigger")
    def threshold(self, alert: LowStockAlert) -> str:
        return format_quantity(alert.threshold_at_trigger)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
