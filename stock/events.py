"""The live events of stock, declared in the kernel's catalogue; published by
``stock.services`` after commit with ``inventory_project.kernel.realtime.publish``."""

import uuid
from decimal import Decimal

from catalog.models import Unit
from inventory_project.kernel.events import Actor, Event, Quantity, catalogue
from stock.models import MovementKind, StockLevel, StockMovement

STOCK_CHANGED = "stock.changed"
THRESHOLD_CHANGED = "stock.threshold_changed"


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


@catalogue.event(
    THRESHOLD_CHANGED,
    summary="A branch's low-stock threshold of a product was set or cleared (inherited).",
    audience="branch",
)
class ThresholdChanged(Event):
    level: uuid.UUID
    product: uuid.UUID
    sku: str
    name: str
    # The threshold in force now, and the level's own (null: the product's default).
    threshold: Quantity
    low_stock_threshold: Quantity | None
    previous_threshold: Quantity
    on_hand: Quantity
    is_low: bool
    actor: Actor

    @classmethod
    def of(cls, level: StockLevel, *, previous: Decimal, actor) -> "ThresholdChanged":
        product = level.product
        return cls(
            level=level.pk,
            product=product.pk,
            sku=product.sku,
            name=product.name,
            threshold=level.threshold,
            low_stock_threshold=level.low_stock_threshold,
            previous_threshold=previous,
            on_hand=level.on_hand,
            is_low=level.is_low,
            actor=Actor(id=actor.pk, name=str(actor)),
        )
