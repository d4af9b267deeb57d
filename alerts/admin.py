from django.contrib import admin, messages

from alerts import services
from alerts.models import AlertDigest, LowStockAlert
from inventory_project.kernel.admin import ReadOnlyAdmin
from inventory_project.kernel.errors import DomainError
from stock.quantities import format_quantity


@admin.register(LowStockAlert)
class LowStockAlertAdmin(ReadOnlyAdmin):
    """Alerts are raised and resolved by stock changes; the back office looks at them, at
    where their e-mail is, and may acknowledge them, through the service."""

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
        "mail_status",
    ]
    list_filter = ["status", "mail_status", "branch"]
    list_select_related = ["branch", "product", "acknowledged_by"]
    search_fields = ["product__sku", "product__name"]
    date_hierarchy = "raised_at"
    show_full_result_count = False
    actions = ["acknowledge"]

    @admin.action(description="Acknowledge the selected alerts")
    def acknowledge(self, request, queryset) -> None:
        # All or nothing, as on the alerts page; ones acknowledged or resolved stay as they are.
        selected = list(queryset.values_list("pk", flat=True)[: services.BULK_MAX + 1])
        try:
            done = services.acknowledge_alerts(actor=request.user, alert_ids=selected)
        except DomainError as error:
            self.message_user(request, error.message, messages.WARNING)
            return
        left = len(selected) - len(done)
        self.message_user(
            request, f"Acknowledged {len(done)} alert{'s' if len(done) != 1 else ''}."
        )
        if left:
            self.message_user(
                request,
                f"Left {left} already acknowledged or resolved as "
                f"{'it was' if left == 1 else 'they were'}.",
                messages.WARNING,
            )

    @admin.display(description="on hand when raised", ordering="on_hand_at_trigger")
    def on_hand(self, alert: LowStockAlert) -> str:
        return format_quantity(alert.on_hand_at_trigger)

    @admin.display(description="threshold when raised", ordering="threshold_at_trigger")
    def threshold(self, alert: LowStockAlert) -> str:
        return format_quantity(alert.threshold_at_trigger)


@admin.register(AlertDigest)
class AlertDigestAdmin(ReadOnlyAdmin):
    """Which daily digests went to whom: written by the digest task, read here."""

    list_display = ["day", "recipient", "alert_count", "sent_at"]
    list_select_related = ["recipient"]
    search_fields = ["recipient__email"]
    date_hierarchy = "day"
