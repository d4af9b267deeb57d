import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.models import Branch
from catalog.models import Product
from stock.models import StockLevel, quantity_field


class AlertStatus(models.TextChoices):
    OPEN = "OPEN", _("open")
    ACKNOWLEDGED = "ACKNOWLEDGED", _("acknowledged")
    RESOLVED = "RESOLVED", _("resolved")


# An alert someone still has to act on; at most one per level.
UNRESOLVED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


class MailStatus(models.TextChoices):
    """Where the alert's e-mail is: the alert row is its outbox."""

    PENDING = "PENDING", _("waiting to be queued")
    QUEUED = "QUEUED", _("queued for a worker")
    SENT = "SENT", _("sent")
    SKIPPED = "SKIPPED", _("not needed")


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
    mail_status = models.CharField(
        "e-mail", max_length=8, choices=MailStatus.choices, default=MailStatus.PENDING
    )
    mail_queued_at = models.DateTimeField(
        "e-mail queued at",
        null=True,
        blank=True,
        help_text="When its e-mail task last reached the broker.",
    )
    emailed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the e-mail about this alert was sent."
    )
    mail_problem = models.CharField(
        "e-mail problem",
        max_length=300,
        blank=True,
        help_text="Why the e-mail was not needed, or the mail server's last refusal.",
    )
    # A worker claims the e-mail before it talks to the mail server, and nobody else sends
    # it until the claim runs out: the row is not locked while the message goes out.
    mail_claim = models.UUIDField("e-mail claim", null=True, blank=True, editable=False)
    mail_claimed_until = models.DateTimeField(
        "e-mail claimed until",
        null=True,
        blank=True,
        editable=False,
        help_text="A worker is sending the e-mail; another may try once this has passed.",
    )

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = "low-stock alert"
        indexes = [
            models.Index(
                fields=["branch", "status", "-raised_at"], name="alert_branch_status_time_idx"
            ),
            models.Index(fields=["product", "-raised_at"], name="alert_product_time_idx"),
            models.Index(fields=["status", "-raised_at"], name="alert_status_time_idx"),
            models.Index(fields=["-raised_at"], name="alert_time_idx"),
            # The outbox sweep looks only at the few alerts whose e-mail is still owed.
            models.Index(
                fields=["raised_at"],
                condition=Q(mail_status__in=[MailStatus.PENDING, MailStatus.QUEUED]),
                name="alert_mail_owed_idx",
            ),
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
            models.CheckConstraint(
                condition=Q(mail_status__in=MailStatus.values), name="alert_mail_status_known"
            ),
            # Sent exactly when it carries the time it was sent.
            models.CheckConstraint(
                condition=(
                    Q(mail_status=MailStatus.SENT, emailed_at__isnull=False)
                    | (~Q(mail_status=MailStatus.SENT) & Q(emailed_at__isnull=True))
                ),
                name="alert_sent_has_time",
            ),
            # A claim is whole (whose and until when) or absent.
            models.CheckConstraint(
                condition=Q(mail_claim__isnull=True, mail_claimed_until__isnull=True)
                | Q(mail_claim__isnull=False, mail_claimed_until__isnull=False),
                name="alert_mail_claim_whole",
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


class AlertDigest(models.Model):
    """One person's daily digest of open alerts: a row per person and day, so that a
    redelivered digest task finds it sent and sends nothing."""

    id = models.BigAutoField(primary_key=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_digests"
    )
    day = models.DateField()
    alert_count = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day"]
        verbose_name = "alert digest"
        constraints = [
            models.UniqueConstraint(fields=["recipient", "day"], name="alert_digest_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"Digest for {self.recipient} on {self.day}"
