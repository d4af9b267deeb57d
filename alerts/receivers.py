"""How alerts follow stock and catalog changes; connected in AlertsConfig.ready()."""

from functools import partial

from django.db import transaction
from django.dispatch import receiver

from alerts import services, tasks
from alerts.models import LowStockAlert
from alerts.signals import alert_changed
from catalog.models import Product
from catalog.signals import product_changed
from inventory_project.kernel import realtime
from stock.events import quantity
from stock.models import StockLevel
from stock.signals import stock_level_changed


@receiver(stock_level_changed, sender=StockLevel, dispatch_uid="alerts.track_stock_level")
def track_stock_level(sender, *, level, movement, previous_threshold=None, **kwargs) -> None:
    alert = services.track_stock_level(
        level=level, movement=movement, previous_threshold=previous_threshold
    )
    if alert is not None:
        _email_after_commit([alert])


@receiver(product_changed, sender=Product, dispatch_uid="alerts.track_product_threshold")
def track_product_threshold(sender, *, product, previous, **kwargs) -> None:
    if "low_stock_threshold" in previous:
        alerts = services.track_product_threshold(
            product=product, previous_threshold=previous["low_stock_threshold"]
        )
        _email_after_commit(alerts)


def _email_after_commit(alerts) -> None:
    for alert in alerts:
        # partial binds this alert's id now, not the loop variable's last value.
        transaction.on_commit(partial(tasks.queue_alert_email, alert.pk))


@receiver(alert_changed, sender=LowStockAlert, dispatch_uid="alerts.publish_alert_event")
def publish_alert_event(sender, *, alert: LowStockAlert, change, **kwargs) -> None:
    product = alert.product
    realtime.publish_after_commit(
        realtime.event(
            f"alert.{change}",
            alert.branch_id,
            {
                "alert": str(alert.pk),
                "level": str(alert.stock_level_id),
                "product": str(product.pk),
                "sku": product.sku,
                "name": product.name,
                "status": alert.status,
                "on_hand_at_trigger": quantity(alert.on_hand_at_trigger),
                "threshold_at_trigger": quantity(alert.threshold_at_trigger),
                "acknowledged_by": str(alert.acknowledged_by) if alert.acknowledged_by else None,
                "note": alert.acknowledgement_note,
            },
        )
    )
