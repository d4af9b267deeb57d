"""The live events of transfer steps, published after commit to both branches; connected
in TransfersConfig.ready()."""

from django.dispatch import receiver

from inventory_project.kernel import realtime
from transfers.models import Transfer, TransferEvent
from transfers.signals import transfer_changed


@receiver(transfer_changed, sender=Transfer, dispatch_uid="transfers.publish_transfer_event")
def publish_transfer_event(sender, *, transfer: Transfer, event: TransferEvent, **kwargs) -> None:
    data = {
        "transfer": str(transfer.pk),
        "reference": transfer.reference,
        "status": transfer.status,
        "step": event.step,
        "from_status": event.from_status,
        "from_branch": str(transfer.from_branch_id),
        "to_branch": str(transfer.to_branch_id),
        "actor": {"id": str(event.actor_id), "name": str(event.actor)},
    }
    realtime.publish_after_commit(
        realtime.event("transfer.updated", transfer.from_branch_id, data),
        realtime.event("transfer.updated", transfer.to_branch_id, data),
    )
