"""How alerts follow stock and catalog changes, which cannot call alerts themselves (they
sit below it); connected in AlertsConfig.ready()."""

from functools import partial

from django.db import transaction
from django.dispatch import receiver

from alerts import services, tasks
from catalog.models import Product
from catalog.signals import product_changed
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
