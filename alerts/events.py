"""The live events of low-stock alerts, declared in the kernel's catalogue; published by
``alerts.services`` after commit with ``inventory_project.kernel.realtime.publish``."""

import enum
import uuid

from alerts.models import AlertStatus, LowStockAlert
from inventory_project.kernel.events import Event, Quantity, catalogue


class AlertChange(enum.StrEnum):
    RAISED = "alert.raised"
    RESOLVED = "alert.resolved"
    ACKNOWLEDGED = "alert.acknowledged"


@catalogue.event(
    *AlertChange,
    summary="A low-stock alert was raised, acknowledged or resolved.",
    audience="branch",
)
class AlertChanged(Event):
    alert: uuid.UUID
    level: uuid.UUID
    product: uuid.UUID
    sku: str
    name: str
    status: AlertStatus
    on_hand_at_trigger: Quantity
    threshold_at_trigger: Quantity
    acknowledged_by: str | None
    note: str

    @classmethod
    def of(cls, alert: LowStockAlert) -> "AlertChanged":
        product = alert.product
        return cls(
            alert=alert.pk,
            level=alert.stock_level_id,
            product=product.pk,
            sku=product.sku,
            name=product.name,
            status=alert.status,
            on_hand_at_trigger=alert.on_hand_at_trigger,
            threshold_at_trigger=alert.threshold_at_trigger,
            acknowledged_by=str(alert.acknowledged_by) if alert.acknowledged_by else None,
            note=alert.acknowledgement_note,
        )
