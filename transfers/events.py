"""The live events of transfers and purchase orders, declared in the kernel's catalogue;
published after commit with ``inventory_project.kernel.realtime.publish`` by
``transfers.services`` (to both branches) and ``transfers.purchasing`` (to the order's
branch)."""

import uuid
from typing import Literal

from inventory_project.kernel.events import Actor, Event, catalogue
from transfers.models import (
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderStatus,
    PurchaseOrderStep,
    Transfer,
    TransferEvent,
    TransferStatus,
    TransferStep,
)

TRANSFER_UPDATED = "transfer.updated"


@catalogue.event(
    TRANSFER_UPDATED,
    summary="A transfer took a step; sent to both of its branches.",
    audience="branch",
)
class TransferUpdated(Event):
    transfer: uuid.UUID
    reference: str
    status: TransferStatus
    step: TransferStep
    # Empty for the step that created the transfer.
    from_status: TransferStatus | Literal[""]
    from_branch: uuid.UUID
    to_branch: uuid.UUID
    actor: Actor

    @classmethod
    def of(cls, transfer: Transfer, event: TransferEvent) -> "TransferUpdated":
        return cls(
            transfer=transfer.pk,
            reference=transfer.reference,
            status=transfer.status,
            step=event.step,
            from_status=event.from_status,
            from_branch=transfer.from_branch_id,
            to_branch=transfer.to_branch_id,
            actor=Actor(id=event.actor_id, name=str(event.actor)),
        )


PURCHASE_ORDER_UPDATED = "purchase_order.updated"


@catalogue.event(
    PURCHASE_ORDER_UPDATED,
    summary="A purchase order took a step; sent to the order's branch.",
    audience="branch",
)
class PurchaseOrderUpdated(Event):
    order: uuid.UUID
    reference: str
    status: PurchaseOrderStatus
    step: PurchaseOrderStep
    # Empty for the step that drafted the order.
    from_status: PurchaseOrderStatus | Literal[""]
    branch: uuid.UUID
    supplier: uuid.UUID
    actor: Actor

    @classmethod
    def of(cls, order: PurchaseOrder, event: PurchaseOrderEvent) -> "PurchaseOrderUpdated":
        return cls(
            order=order.pk,
            reference=order.reference,
            status=order.status,
            step=event.step,
            from_status=event.from_status,
            branch=order.branch_id,
            supplier=order.supplier_id,
            actor=Actor(id=event.actor_id, name=str(event.actor)),
        )
