"""The kernel's one table: stored answers of requests sent with an ``Idempotency-Key``."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotentRequest(models.Model):
    """The answer given to a stock-changing request sent with an ``Idempotency-Key``.

    A retry with the same key (per user) is answered from here instead of being applied
    again. The row is written in the same transaction as the change it answers, so it exists
    exactly when the change does; the unique key makes a concurrent duplicate wait for the
    first and then find its answer.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the method, path and body of the request."
    )
    status_code = models.PositiveSmallIntegerField(null=True)
    # As text, not jsonb: a replay answers the same bytes, keys in the same order.
    response = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"
