"""The live events of the catalog, declared in the kernel's catalogue; published by
``catalog.services`` after commit with ``inventory_project.kernel.realtime.publish``."""

import uuid

from catalog.models import Product, Unit
from inventory_project.kernel.events import Event, Quantity, catalogue

PRODUCT_CHANGED = "product.changed"


@catalogue.event(
    PRODUCT_CHANGED,
    summary="A product's details changed; it reaches every socket (branch is null).",
    audience="catalog",
)
class ProductChanged(Event):
    product: uuid.UUID
    sku: str
    name: str
    unit: Unit
    is_active: bool
    low_stock_threshold: Quantity
    # The names of the fields that changed.
    changed: list[str]

    @classmethod
    def of(cls, product: Product, changed: list[str]) -> "ProductChanged":
        return cls(
            product=product.pk,
            sku=product.sku,
            name=product.name,
            unit=product.unit,
            is_active=product.is_active,
            low_stock_threshold=product.low_stock_threshold,
            changed=sorted(changed),
        )
