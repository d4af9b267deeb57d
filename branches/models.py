import uuid
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/Berlin).")


class BranchKind(models.TextChoices):
    SHOP = "SHOP", _("Shop")
    WAREHOUSE = "WAREHOUSE", _("Warehouse")


class Branch(models.Model):
    """A shop or warehouse that holds stock."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(
        max_length=12,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Z0-9][A-Z0-9-]*$",
                "Use upper-case letters, digits and hyphens, e.g. BER-01.",
            )
        ],
        help_text="Short unique code used on labels and reports, e.g. BER-01.",
    )
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=9, choices=BranchKind.choices, default=BranchKind.SHOP)
    city = models.CharField(max_length=80, blank=True)
    address = models.TextField(blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    is_active = models.BooleanField(
        "active", default=True, help_text="Inactive branches take no stock movements."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "branches"
        # Granted per branch (django-guardian object permissions) from memberships; which
        # role holds which is decided in accounts.permissions. view_branch is Django's own.
        permissions = [
            ("receive_stock", "Receive stock"),
            ("issue_stock", "Issue stock"),
            ("adjust_stock", "Adjust stock"),
            ("count_stock", "Count stock"),
            ("set_thresholds", "Set low-stock thresholds"),
            ("request_transfer", "Request transfers into the branch"),
            ("dispatch_transfer", "Approve and ship transfers out of the branch"),
            ("receive_transfer", "Receive transfers into the branch"),
            ("cancel_transfer", "Cancel transfers before shipping"),
            ("acknowledge_alerts", "Acknowledge low-stock alerts"),
            ("manage_staff", "Add, deactivate and reactivate staff"),
            ("order_stock", "Draft, send and cancel purchase orders for the branch"),
        ]
        indexes = [models.Index(fields=["is_active"], name="branch_active_idx")]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="branch_name_unique_ci"),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"
