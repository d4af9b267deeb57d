import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from branches.models import Branch
from catalog.models import Product
from stock.models import StockLevel, quantity_field


class AlertStatus(models.TextChoices):
    OPEN = "OPEN", "open"
    ACKNOWLEDGED = "ACKNOWLEDGED", "acknowledged"
    RESOLVED = "RESOLVED", "resolved"


class LowStockAlert(models.Model):
    """A branch running low on a product: raised when on hand falls below the threshold.

    A level has at most one unresolved (OPEN or ACKNOWLEDGED) alert at a time; it is resolved
    when the stock is back at or above the threshold, and a later fall raises a new one.
    The quantities are those of the moment it was raised.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    stock_level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="alerts")
    # Copied from the level so the alert lists filter by branch or product without a join;
    # both are covered by the indexes below.
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="low_stock_alerts", db_index=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="low_stock_alerts", db_index=False
    )
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    on_hand_at_trigger = quantity_field("on hand when raised")
    threshold_at_trigger = quantity_field("threshold when raised")
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="acknowledged_alerts",
        null=True,
        blank=True,
    )
    acknowledgement_note = models.CharField(max_length=500, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the e-mail about this alert was sent."
    )

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = "low-stock alert"
        indexes = [
            models.Index(
                fields=["branch", "status", "-raised_at"], name="alert_branch_status_time_idx"
            ),
            models.Index(fields=["product", "-raised_at"], name="alert_product_time_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["stock_level"],
                condition=~Q(status=AlertStatus.RESOLVED),
                name="alert_one_unresolved_per_level",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AlertStatus.values), name="alert_status_known"
            ),
            models.CheckConstraint(
                condition=Q(on_hand_at_trigger__gte=0)
                & Q(on_hand_at_trigger__lt=F("threshold_at_trigger")),
                name="alert_raised_below_threshold",
            ),
            # Resolved exactly when it carries the time it was resolved.
            models.CheckConstraint(
                condition=(
                    Q(status=AlertStatus.RESOLVED, resolved_at__isnull=False)
                    | (~Q(status=AlertStatus.RESOLVED) & Q(resolved_at__isnull=True))
                ),
                name="alert_resolved_has_time",
            ),
            # An acknowledgement is whole (who and when, note optional) or absent.
            models.CheckConstraint(
                condition=(
                    Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False)
                    | Q(
                        acknowledged_at__isnull=True,
                        acknowledged_by__isnull=True,
                        acknowledgement_note="",
                    )
                ),
                name="alert_acknowledgement_whole",
            ),
            # OPEN has none, ACKNOWLEDGED has one; a RESOLVED alert may have been
            # acknowledged first or not.
            models.CheckConstraint(
                condition=(
                    Q(status=AlertStatus.OPEN, acknowledged_at__isnull=True)
                    | Q(status=AlertStatus.ACKNOWLEDGED, acknowledged_at__isnull=False)
                    | Q(status=AlertStatus.RESOLVED)
                ),
                name="alert_status_matches_acknowledgement",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} low at {self.branch.code} ({self.get_status_display()})"
