"""The live events of stock, declared in the kernel's catalogue; published by
``stock.services`` after commit with ``inventory_project.kernel.realtime.publish``."""

import uuid

from catalog.models import Unit
from inventory_project.kernel.events import Actor, Event, Quantity, catalogue
from stock.models import MovementKind, StockLevel, StockMovement

STOCK_CHANGED = "stock.changed"


@catalogue.event(
    STOCK_CHANGED,
    summary="A movement changed what a branch holds of a product.",
    audience="branch",
)
class StockChanged(Event):
    level: uuid.UUID
    level_version: int
    product: uuid.UUID
    sku: str
    name: str
    unit: Unit
    kind: MovementKind
    delta: Quantity
    on_hand_before: Quantity
    on_hand_after: Quantity
    movement: uuid.UUID
    actor: Actor

    @classmethod
    def of(cls, level: StockLevel, movement: StockMovement) -> "StockChanged":
        product = level.product
        return cls(
            level=level.pk,
            level_version=movement.version,
            product=product.pk,
            sku=product.sku,
            name=product.name,
            unit=product.unit,
            kind=movement.kind,
            delta=movement.delta,
            on_hand_before=movement.on_hand_after - movement.delta,
            on_hand_after=movement.on_hand_after,
            movement=movement.pk,
            actor=Actor(id=movement.actor_id, name=str(movement.actor)),
        )
