"""The live events of transfers, declared in the kernel's catalogue; published by
``transfers.services`` after commit, to both branches, with
``inventory_project.kernel.realtime.publish``."""

import uuid
from typing import Literal

from inventory_project.kernel.events import Actor, Event, catalogue
from transfers.models import Transfer, TransferEvent, TransferStatus, TransferStep

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
