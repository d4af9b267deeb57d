import uuid
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/Berlin).")


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
    address = models.TextField(blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    is_active = models.BooleanField(
        "active", default=True, help_text="Inactive branches take no stock movements."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "branches"
        constraints = [
            models.UniqueConstraint(Lower("name"), name="branch_name_unique_ci"),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"
