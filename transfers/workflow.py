"""The transfer workflow as data: each step, the states it is taken from and leads to, the
right it needs and at which end of the transfer.

The services check every step against this table (who may, then whether the transfer's state
allows it), and the API and the pages list from it what someone may do next
(``available_steps``), so the two cannot disagree.
"""

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from accounts.permissions import Action, Rights
from transfers.models import UNDER_WAY, Transfer, TransferKind, TransferStatus, TransferStep


class Side(enum.Enum):
    """The branch where whoever takes a step must hold its right."""

    SOURCE = "source"
    DESTINATION = "destination"
    # The branch that asked for the transfer (the destination of a request, the source of a
    # push) or the source: either may call it off.
    REQUESTER_OR_SOURCE = "requesting branch or source"

    def branch_ids(self, transfer: Transfer) -> tuple[uuid.UUID, ...]:
        if self is Side.SOURCE:
            return (transfer.from_branch_id,)
        if self is Side.DESTINATION:
            return (transfer.to_branch_id,)
        requester = (
            transfer.to_branch_id if transfer.kind == TransferKind.PULL else transfer.from_branch_id
        )
        return (requester, transfer.from_branch_id)


@dataclass(frozen=True)
class StepRule:
    """One step of a workflow kept as data (a transfer's here, a purchase order's in
    ``purchase_workflow``): the states it is taken from and leads to, and the right it needs."""

    step: str  # the workflow's step choice
    sources: tuple[str, ...]  # the states it is taken from; none for the steps that start one
    targets: tuple[str, ...]  # the states it leads to: receive's depends on what is left
    action: Action

    @property
    def name(self) -> str:
        """As the API names it: its endpoint, and an entry of ``available_steps``."""
        return self.step.lower()

    @property
    def target(self) -> str:
        """The one state the step leads to."""
        (target,) = self.targets
        return target

    @property
    def starts(self) -> bool:
        return not self.sources


def legal(entry: StepRule, subject: Transfer | Any) -> bool:
    """Does the state of ``subject`` (a transfer, an order) allow ``entry``?"""
    return subject.status in entry.sources


@dataclass(frozen=True)
class Step(StepRule):
    side: Side
    done: str  # "Transfer TR-… is requested; it cannot be <done>."


STEPS: Mapping[TransferStep, Step] = {
    entry.step: entry
    for entry in (
        Step(
            TransferStep.REQUEST,
            sources=(),
            targets=(TransferStatus.REQUESTED,),
            action=Action.REQUEST_TRANSFER,
            side=Side.DESTINATION,
            done="requested",
        ),
        Step(
            TransferStep.SEND,
            sources=(),
            targets=(TransferStatus.APPROVED,),
            action=Action.DISPATCH_TRANSFER,
            side=Side.SOURCE,
            done="sent",
        ),
        Step(
            TransferStep.APPROVE,
            sources=(TransferStatus.REQUESTED,),
            targets=(TransferStatus.APPROVED,),
            action=Action.DISPATCH_TRANSFER,
            side=Side.SOURCE,
            done="approved",
        ),
        Step(
            TransferStep.SHIP,
            sources=(TransferStatus.APPROVED,),
            targets=(TransferStatus.IN_TRANSIT,),
            action=Action.DISPATCH_TRANSFER,
            side=Side.SOURCE,
            done="shipped",
        ),
        Step(
            TransferStep.RECEIVE,
            sources=UNDER_WAY,
            targets=(TransferStatus.PARTIALLY_RECEIVED, TransferStatus.RECEIVED),
            action=Action.RECEIVE_TRANSFER,
            side=Side.DESTINATION,
            done="received",
        ),
        Step(
            TransferStep.CLOSE,
            sources=UNDER_WAY,
            targets=(TransferStatus.RECEIVED,),
            action=Action.RECEIVE_TRANSFER,
            side=Side.DESTINATION,
            done="closed",
        ),
        Step(
            TransferStep.CANCEL,
            sources=(TransferStatus.REQUESTED, TransferStatus.APPROVED),
            targets=(TransferStatus.CANCELLED,),
            action=Action.CANCEL_TRANSFER,
            side=Side.REQUESTER_OR_SOURCE,
            done="cancelled",
        ),
        Step(
            TransferStep.REJECT,
            sources=(TransferStatus.REQUESTED,),
            targets=(TransferStatus.CANCELLED,),
            action=Action.CANCEL_TRANSFER,
            side=Side.SOURCE,
            done="rejected",
        ),
    )
}

# The steps taken on a transfer that exists, by their API names, in the table's order.
STEP_NAMES = tuple(entry.name for entry in STEPS.values() if not entry.starts)


def permitted(entry: Step, transfer: Transfer, rights: Rights) -> bool:
    """May the holder of ``rights`` take ``entry`` on ``transfer``, whatever its state?"""
    return any(entry.action in rights.at(branch) for branch in entry.side.branch_ids(transfer))


def available_steps(transfer: Transfer, rights: Rights) -> list[str]:
    """The names of the steps the holder of ``rights`` may take on ``transfer`` now."""
    return [
        entry.name
        for entry in STEPS.values()
        if legal(entry, transfer) and permitted(entry, transfer, rights)
    ]
