"""The transfer workflow: one function per step, each one transaction.

    request_transfer (pull, by the destination)   -> REQUESTED
    send_transfer    (push, by the source)        -> APPROVED
    approve_transfer REQUESTED -> APPROVED                      (source; may change quantities)
    ship_transfer    APPROVED -> IN_TRANSIT                     (source; TRANSFER_OUT per line)
    receive_transfer IN_TRANSIT/PARTIALLY_RECEIVED -> PARTIALLY_RECEIVED/RECEIVED
                                                                (destination; TRANSFER_IN)
    close_transfer   IN_TRANSIT/PARTIALLY_RECEIVED -> RECEIVED  (destination; shortfall reason)
    cancel_transfer  REQUESTED/APPROVED -> CANCELLED            (requesting or source branch)
    reject_transfer  REQUESTED -> CANCELLED                     (source; a reason is required)

Which states each step is taken from and leads to, and who may take it, is the table in
``transfers.workflow``: a step asks it once (``_taking``) whether the actor may, then whether
the state allows it. The API lists from the same table what a user may do next.

Every step locks the transfer row first, then (when stock moves) the branch's stock levels
in primary-key order, so two people acting on one transfer queue and the second finds it
already moved on (IllegalTransition), and transfers in opposite directions never wait on
each other in a cycle. Each step writes a TransferEvent and publishes ``transfer.updated``
to both branches.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.models import User
from accounts.permissions import AnyUser
from branches.errors import UnknownBranch
from branches.models import Branch
from catalog.errors import UnknownProduct
from catalog.models import Product
from inventory_project.kernel import realtime
from inventory_project.kernel.errors import InvalidInput, at_field
from stock import services as stock
from stock.errors import InactiveBranch, InactiveProduct
from stock.models import MovementKind
from stock.quantities import Quantity, check_unit, format_quantity, parse_quantity
from transfers import selectors, workflow
from transfers.errors import IllegalTransition, UnknownTransfer
from transfers.events import TRANSFER_UPDATED, TransferUpdated
from transfers.models import (
    ShortfallReason,
    Transfer,
    TransferEvent,
    TransferKind,
    TransferLine,
    TransferMovement,
    TransferStatus,
    TransferStep,
)

NOTE_MAX_LENGTH = Transfer._meta.get_field("note").max_length
MAX_LINES = 500


@dataclass(frozen=True)
class TransferItem:
    """A product and a quantity of it, as asked for, approved or received."""

    product_id: uuid.UUID | str
    quantity: Quantity


# Starting a transfer ----------------------------------------------------------------------


def request_transfer(
    *,
    actor: User,
    from_branch_id: uuid.UUID | str,
    to_branch_id: uuid.UUID | str,
    items: Sequence[TransferItem],
    note: str = "",
) -> Transfer:
    """A manager of the destination asks the source for stock (REQUESTED)."""
    return _start(
        actor=actor,
        from_branch_id=from_branch_id,
        to_branch_id=to_branch_id,
        items=items,
        note=note,
        step=TransferStep.REQUEST,
    )


def send_transfer(
    *,
    actor: User,
    from_branch_id: uuid.UUID | str,
    to_branch_id: uuid.UUID | str,
    items: Sequence[TransferItem],
    note: str = "",
) -> Transfer:
    """A manager of the source starts a transfer out, already approved (APPROVED)."""
    return _start(
        actor=actor,
        from_branch_id=from_branch_id,
        to_branch_id=to_branch_id,
        items=items,
        note=note,
        step=TransferStep.SEND,
    )


def _start(
    *,
    actor: User,
    from_branch_id: uuid.UUID | str,
    to_branch_id: uuid.UUID | str,
    items: Sequence[TransferItem],
    note: str,
    step: TransferStep,
) -> Transfer:
    note = _clean_note(note)
    parsed = _parse_items(items)
    entry = workflow.STEPS[step]
    pull = entry.side is workflow.Side.DESTINATION
    with transaction.atomic():
        own, other = (to_branch_id, from_branch_id) if pull else (from_branch_id, to_branch_id)
        own_branch = permissions.require(actor, entry.action, own)
        # The other branch need not be one the actor sees: any active branch may be asked.
        other_branch = _branch(other, field="from_branch" if pull else "to_branch")
        if own_branch.pk == other_branch.pk:
            raise InvalidInput("A transfer needs two different branches.", field="to_branch")
        for branch in (own_branch, other_branch):
            if not branch.is_active:
                raise InactiveBranch(f"Branch {branch.code} is inactive; it takes no transfers.")
        from_branch, to_branch = (other_branch, own_branch) if pull else (own_branch, other_branch)
        products = _products(parsed)
        now = timezone.now()
        transfer = Transfer.objects.create(
            from_branch=from_branch,
            to_branch=to_branch,
            kind=TransferKind.PULL if pull else TransferKind.PUSH,
            status=entry.target,
            requested_by=actor,
            note=note,
            approved_at=now if entry.target == TransferStatus.APPROVED else None,
        )
        TransferLine.objects.bulk_create(
            [
                TransferLine(transfer=transfer, product=products[product_id], requested=amount)
                for product_id, amount in parsed
            ]
        )
        return _record_step(transfer, actor=actor, step=step, from_status="", note=note)


# Steps ------------------------------------------------------------------------------------


def approve_transfer(
    *,
    actor: User,
    transfer_id: uuid.UUID | str,
    quantities: Mapping[uuid.UUID | str, Quantity] | None = None,
    note: str = "",
) -> Transfer:
    """The source agrees to a request (REQUESTED -> APPROVED), optionally changing how much
    of each requested product it will send; every quantity stays greater than zero."""
    note = _clean_note(note)
    with transaction.atomic():
        transfer, entry = _taking(TransferStep.APPROVE, actor=actor, transfer_id=transfer_id)
        if quantities:
            lines = _lines_by_product(transfer, quantities.keys())
            for product_id, value in quantities.items():
                line = lines[product_id]
                with at_field(f"quantities.{product_id}"):
                    line.requested = parse_quantity(value, name="Quantity", sign=1)
                    check_unit(line.requested, line.product, name="Quantity")
            TransferLine.objects.bulk_update(lines.values(), ["requested"])
        before = transfer.status
        transfer.status = entry.target
        transfer.approved_at = timezone.now()
        return _record_step(
            transfer, actor=actor, step=TransferStep.APPROVE, from_status=before, note=note
        )


def ship_transfer(*, actor: User, transfer_id: uuid.UUID | str, note: str = "") -> Transfer:
    """The goods leave the source (APPROVED -> IN_TRANSIT): every line ships its approved
    quantity as a TRANSFER_OUT movement, all or nothing; refused whole if any is short."""
    note = _clean_note(note)
    with transaction.atomic():
        transfer, entry = _taking(TransferStep.SHIP, actor=actor, transfer_id=transfer_id)
        lines = list(transfer.lines.select_related("product").order_by("product_id"))
        movements = stock.record_transfer_movements(
            actor=actor,
            branch_id=transfer.from_branch_id,
            kind=MovementKind.TRANSFER_OUT,
            lines=[
                stock.MovementLine(
                    product_id=line.product_id,
                    quantity=line.requested,
                    note=f"Transfer {transfer.reference} to {transfer.to_branch.code}",
                )
                for line in lines
            ],
        )
        # Each line leaves at the source's average cost and arrives at it (receive_transfer).
        for line, movement in zip(lines, movements, strict=True):
            line.shipped = line.requested
            line.unit_cost = movement.unit_cost
        TransferLine.objects.bulk_update(lines, ["shipped", "unit_cost"])
        _link(lines, movements)
        before = transfer.status
        transfer.status = entry.target
        transfer.shipped_at = timezone.now()
        return _record_step(
            transfer, actor=actor, step=TransferStep.SHIP, from_status=before, note=note
        )


def receive_transfer(
    *,
    actor: User,
    transfer_id: uuid.UUID | str,
    quantities: Mapping[uuid.UUID | str, Quantity],
    note: str = "",
) -> Transfer:
    """Goods arrive at the destination: each given product's quantity (> 0, at most what is
    still outstanding of it) becomes a TRANSFER_IN movement. The transfer is RECEIVED when
    nothing is outstanding any more, else PARTIALLY_RECEIVED; receipts may come in several
    parts."""
    note = _clean_note(note)
    if not quantities:
        raise InvalidInput("Say how much of which product arrived.", field="quantities")
    with transaction.atomic():
        transfer, _ = _taking(TransferStep.RECEIVE, actor=actor, transfer_id=transfer_id)
        lines = _lines_by_product(transfer, quantities.keys())
        arriving = []
        for product_id, value in quantities.items():
            line = lines[product_id]
            with at_field(f"quantities.{product_id}"):
                amount = parse_quantity(value, name="Quantity", sign=1)
                if amount > line.outstanding:
                    raise InvalidInput(
                        f"Only {format_quantity(line.outstanding)} {line.product.unit} of "
                        f"{line.product.sku} are still to arrive; {format_quantity(amount)} "
                        "cannot be received."
                    )
            arriving.append((line, amount))
        arriving.sort(key=lambda pair: pair[0].product_id)
        movements = stock.record_transfer_movements(
            actor=actor,
            branch_id=transfer.to_branch_id,
            kind=MovementKind.TRANSFER_IN,
            lines=[
                stock.MovementLine(
                    product_id=line.product_id,
                    quantity=amount,
                    note=f"Transfer {transfer.reference} from {transfer.from_branch.code}",
                    unit_cost=line.unit_cost,
                )
                for line, amount in arriving
            ],
        )
        for line, amount in arriving:
            line.received += amount
        TransferLine.objects.bulk_update([line for line, _ in arriving], ["received"])
        _link([line for line, _ in arriving], movements)
        before = transfer.status
        complete = all(line.outstanding == 0 for line in transfer.lines.all())
        transfer.status = TransferStatus.RECEIVED if complete else TransferStatus.PARTIALLY_RECEIVED
        if complete:
            transfer.received_at = timezone.now()
        return _record_step(
            transfer, actor=actor, step=TransferStep.RECEIVE, from_status=before, note=note
        )


def close_transfer(
    *, actor: User, transfer_id: uuid.UUID | str, reason: str, note: str = ""
) -> Transfer:
    """The receiver ends a transfer whose goods will not all arrive (-> RECEIVED): what is
    still outstanding of each line stays on it as the shortfall, with the reason (lost or
    damaged) on the transfer."""
    note = _clean_note(note)
    if reason not in ShortfallReason.values:
        choices = ", ".join(ShortfallReason.values)
        raise InvalidInput(f"Reason {reason!r} is not one of: {choices}.", field="reason")
    with transaction.atomic():
        transfer, entry = _taking(TransferStep.CLOSE, actor=actor, transfer_id=transfer_id)
        before = transfer.status
        transfer.status = entry.target
        transfer.shortfall_reason = reason
        transfer.received_at = timezone.now()
        # The shortfall itself stays on the lines: shipped - received of each.
        return _record_step(
            transfer, actor=actor, step=TransferStep.CLOSE, from_status=before, note=note
        )


def cancel_transfer(*, actor: User, transfer_id: uuid.UUID | str, reason: str = "") -> Transfer:
    """Call a transfer off before it ships (REQUESTED or APPROVED -> CANCELLED): the branch
    that asked for it or the source may (for a transfer the source sent, only the source)."""
    reason = _clean_note(reason, field="reason")
    with transaction.atomic():
        transfer, _ = _taking(TransferStep.CANCEL, actor=actor, transfer_id=transfer_id)
        return _cancel(transfer, actor=actor, step=TransferStep.CANCEL, note=reason)


def reject_transfer(*, actor: User, transfer_id: uuid.UUID | str, reason: str) -> Transfer:
    """The source turns a request down (REQUESTED -> CANCELLED), saying why."""
    reason = _clean_note(reason, field="reason")
    if not reason:
        raise InvalidInput("Say why the request is turned down.", field="reason")
    with transaction.atomic():
        transfer, _ = _taking(TransferStep.REJECT, actor=actor, transfer_id=transfer_id)
        return _cancel(transfer, actor=actor, step=TransferStep.REJECT, note=reason)


# Internals --------------------------------------------------------------------------------


def _cancel(transfer: Transfer, *, actor: User, step: TransferStep, note: str) -> Transfer:
    before = transfer.status
    transfer.status = workflow.STEPS[step].target
    transfer.cancelled_at = timezone.now()
    return _record_step(transfer, actor=actor, step=step, from_status=before, note=note)


def _record_step(
    transfer: Transfer, *, actor: User, step: TransferStep, from_status: str, note: str
) -> Transfer:
    transfer.save()
    event = TransferEvent.objects.create(
        transfer=transfer,
        actor=actor,
        step=step,
        from_status=from_status,
        to_status=transfer.status,
        note=note,
    )
    data = TransferUpdated.of(transfer, event)
    realtime.publish(TRANSFER_UPDATED, data, branch=transfer.from_branch_id)
    realtime.publish(TRANSFER_UPDATED, data, branch=transfer.to_branch_id)
    return transfer


def _locked(actor: AnyUser, transfer_id: uuid.UUID | str) -> Transfer:
    """The transfer locked for update, if ``actor`` may see it; else UnknownTransfer, the
    same for a transfer that does not exist."""
    try:
        return (
            selectors.visible_transfers(actor)
            .select_for_update(of=("self",))
            .select_related("from_branch", "to_branch")
            .get(pk=transfer_id)
        )
    except (Transfer.DoesNotExist, ValidationError, ValueError):
        raise UnknownTransfer(f"No transfer with id {transfer_id}.") from None


def _taking(
    step: TransferStep, *, actor: AnyUser, transfer_id: uuid.UUID | str
) -> tuple[Transfer, workflow.Step]:
    """The transfer locked, and the workflow's entry for ``step``, once ``actor`` may take
    it now: UnknownTransfer when they may not see the transfer, NotPermitted when they may
    not take the step, IllegalTransition when its state does not allow it, in that order."""
    transfer = _locked(actor, transfer_id)
    entry = workflow.STEPS[step]
    rights = permissions.rights(actor, (transfer.from_branch_id, transfer.to_branch_id))
    if not workflow.permitted(entry, transfer, rights):
        raise permissions.deny(actor, f"You may not {entry.name} transfer {transfer.reference}.")
    if not workflow.legal(entry, transfer):
        raise IllegalTransition(
            f"Transfer {transfer.reference} is {transfer.get_status_display()}; "
            f"it cannot be {entry.done}."
        )
    return transfer, entry


def _parse_items(items: Sequence[TransferItem]) -> list[tuple[uuid.UUID, Decimal]]:
    if not items:
        raise InvalidInput("A transfer needs at least one line.", field="lines")
    if len(items) > MAX_LINES:
        raise InvalidInput(f"A transfer takes at most {MAX_LINES} lines.", field="lines")
    parsed: list[tuple[uuid.UUID, Decimal]] = []
    seen: dict[uuid.UUID, int] = {}
    for index, item in enumerate(items):
        with at_field(f"lines.{index}.product"):
            product_id = _as_uuid(item.product_id)
            if product_id in seen:
                raise InvalidInput(
                    f"Line {seen[product_id] + 1} is for the same product; combine them."
                )
        with at_field(f"lines.{index}.quantity"):
            amount = parse_quantity(item.quantity, name="Quantity", sign=1)
        seen[product_id] = index
        parsed.append((product_id, amount))
    return parsed


def _products(parsed: list[tuple[uuid.UUID, Decimal]]) -> dict[uuid.UUID, Product]:
    products = Product.objects.in_bulk([product_id for product_id, _ in parsed])
    for index, (product_id, amount) in enumerate(parsed):
        product = products.get(product_id)
        with at_field(f"lines.{index}.product"):
            if product is None:
                raise UnknownProduct(f"No product with id {product_id}.")
            if not product.is_active:
                raise InactiveProduct(f"Product {product.sku} is inactive; it is not transferred.")
        with at_field(f"lines.{index}.quantity"):
            check_unit(amount, product, name="Quantity")
    return products


def _lines_by_product(
    transfer: Transfer, product_ids: object
) -> dict[uuid.UUID | str, TransferLine]:
    """The transfer's lines keyed as the caller named their products; a product that is not
    on the transfer is refused."""
    lines = {
        line.product_id: line
        for line in transfer.lines.select_related("product").order_by("product_id")
    }
    named = {}
    for key in product_ids:
        with at_field(f"quantities.{key}"):
            product_id = _as_uuid(key)
            if product_id not in lines:
                raise InvalidInput(f"Product {key} is not on transfer {transfer.reference}.")
        named[key] = lines[product_id]
    return named


def _link(lines: Sequence[TransferLine], movements: Sequence) -> None:
    """Record which movement each line wrote; ``movements`` come in the order of ``lines``."""
    TransferMovement.objects.bulk_create(
        [
            TransferMovement(line=line, movement=movement)
            for line, movement in zip(lines, movements, strict=True)
        ]
    )


def _branch(branch_id: uuid.UUID | str, *, field: str) -> Branch:
    try:
        return Branch.objects.get(pk=branch_id)
    except (Branch.DoesNotExist, ValidationError, ValueError):
        raise UnknownBranch(f"No branch with id {branch_id}.", field=field) from None


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput(f"{value!r} is not an id.") from None


def _clean_note(note: str, *, field: str = "note") -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(f"The {field} is longer than {NOTE_MAX_LENGTH} characters.", field=field)
    return note
