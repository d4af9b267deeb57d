"""The live events of stock and catalog changes, published after commit (see
``inventory_project.kernel.realtime``); connected in StockConfig.ready()."""

from decimal import Decimal

from django.dispatch import receiver

from accounts.models import User
from accounts.signals import access_changed
from catalog.models import Product
from catalog.signals import product_changed
from inventory_project.kernel import realtime
from stock.models import StockLevel, StockMovement
from stock.signals import stock_level_changed

EXACT = Decimal("0.001")


def quantity(value: Decimal) -> str:
    """As the API writes quantities: three decimals."""
    return str(Decimal(value).quantize(EXACT))


@receiver(stock_level_changed, sender=StockLevel, dispatch_uid="stock.events.stock_changed")
def stock_changed(sender, *, level: StockLevel, movement: StockMovement | None, **kwargs) -> None:
    if movement is None:
        return  # a threshold change: what follows from it comes as alert events
    product = level.product
    realtime.publish_after_commit(
        realtime.event(
            "stock.changed",
            level.branch_id,
            {
                "level": str(level.pk),
                "level_version": movement.version,
                "product": str(product.pk),
                "sku": product.sku,
                "name": product.name,
                "unit": product.unit,
                "kind": movement.kind,
                "delta": quantity(movement.delta),
                "on_hand_before": quantity(movement.on_hand_after - movement.delta),
                "on_hand_after": quantity(movement.on_hand_after),
                "movement": str(movement.pk),
                "actor": {"id": str(movement.actor_id), "name": str(movement.actor)},
            },
        )
    )


@receiver(product_changed, sender=Product, dispatch_uid="stock.events.product_changed")
def product_changed_event(sender, *, product: Product, previous: dict, **kwargs) -> None:
    realtime.publish_after_commit(
        realtime.event(
            "product.changed",
            None,
            {
                "product": str(product.pk),
                "sku": product.sku,
                "name": product.name,
                "unit": product.unit,
                "is_active": product.is_active,
                "low_stock_threshold": quantity(product.low_stock_threshold),
                "changed": sorted(previous),
            },
        )
    )


@receiver(access_changed, sender=User, dispatch_uid="stock.events.access_changed")
def access_changed_event(sender, *, user: User, **kwargs) -> None:
    realtime.notify_access_changed(user.pk)
