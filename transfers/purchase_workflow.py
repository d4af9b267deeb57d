"""The purchase order workflow as data: each step, the states it is taken from and leads to,
and the right it needs at the order's branch.

    DRAFT   (start)                        -> DRAFT        order_stock
    EDIT    DRAFT                          -> DRAFT        order_stock
    SEND    DRAFT                          -> SENT         order_stock
    RECEIVE SENT, PARTIALLY_RECEIVED       -> PARTIALLY_RECEIVED / RECEIVED   receive_stock
    CLOSE   PARTIALLY_RECEIVED             -> RECEIVED     order_stock (under-delivery accepted)
    CANCEL  DRAFT, SENT (nothing received) -> CANCELLED    order_stock

The services check every step against this table (who may, then whether the order's state
allows it), and the API and the pages list from it what someone may do next
(``available_steps``), so they cannot disagree. Receiving is the one step STAFF may take:
the person at the door receives what the manager ordered.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from accounts.permissions import Action, Rights
from transfers.models import PurchaseOrder, PurchaseOrderStatus, PurchaseOrderStep
from transfers.workflow import StepRule, legal


@dataclass(frozen=True)
class Step(StepRule):
    refusal: str  # "PO-… is cancelled; <refusal>."


STEPS: Mapping[PurchaseOrderStep, Step] = {
    entry.step: entry
    for entry in (
        Step(
            PurchaseOrderStep.DRAFT,
            sources=(),
            targets=(PurchaseOrderStatus.DRAFT,),
            action=Action.ORDER_STOCK,
            refusal="it cannot be drafted",
        ),
        Step(
            PurchaseOrderStep.EDIT,
            sources=(PurchaseOrderStatus.DRAFT,),
            targets=(PurchaseOrderStatus.DRAFT,),
            action=Action.ORDER_STOCK,
            refusal="only a draft can be changed",
        ),
        Step(
            PurchaseOrderStep.SEND,
            sources=(PurchaseOrderStatus.DRAFT,),
            targets=(PurchaseOrderStatus.SENT,),
            action=Action.ORDER_STOCK,
            refusal="only a draft can be sent",
        ),
        Step(
            PurchaseOrderStep.RECEIVE,
            sources=(PurchaseOrderStatus.SENT, PurchaseOrderStatus.PARTIALLY_RECEIVED),
            targets=(PurchaseOrderStatus.PARTIALLY_RECEIVED, PurchaseOrderStatus.RECEIVED),
            action=Action.RECEIVE_STOCK,
            refusal="it takes no receipts",
        ),
        Step(
            PurchaseOrderStep.CLOSE,
            sources=(PurchaseOrderStatus.PARTIALLY_RECEIVED,),
            targets=(PurchaseOrderStatus.RECEIVED,),
            action=Action.ORDER_STOCK,
            refusal="only a partially received order can be closed short",
        ),
        Step(
            PurchaseOrderStep.CANCEL,
            # A SENT order has received nothing yet: the first receipt moves it on.
            sources=(PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.SENT),
            targets=(PurchaseOrderStatus.CANCELLED,),
            action=Action.ORDER_STOCK,
            refusal="only an order that received nothing can be cancelled",
        ),
    )
}

# The steps taken on an order that exists, by their API names, in the table's order.
STEP_NAMES = tuple(entry.name for entry in STEPS.values() if not entry.starts)


def permitted(entry: Step, order: PurchaseOrder, rights: Rights) -> bool:
    """May the holder of ``rights`` take ``entry`` on ``order``, whatever its state?"""
    return entry.action in rights.at(order.branch_id)


def available_steps(order: PurchaseOrder, rights: Rights) -> list[str]:
    """The names of the steps the holder of ``rights`` may take on ``order`` now."""
    return [
        entry.name
        for entry in STEPS.values()
        if not entry.starts and legal(entry, order) and permitted(entry, order, rights)
    ]
