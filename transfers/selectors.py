import uuid

from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts import permissions
from accounts.permissions import AnyUser, Rights
from transfers import workflow
from transfers.errors import UnknownTransfer
from transfers.models import Transfer, TransferEvent, TransferLine


def visible_transfers(user: AnyUser) -> QuerySet[Transfer]:
    """Transfers into or out of a branch ``user`` may see."""
    return permissions.scope(Transfer.objects.all(), user, via=("from_branch", "to_branch"))


def transfer_list(user: AnyUser) -> QuerySet[Transfer]:
    """The transfers ``user`` may see, newest first, with their branches, requester and
    number of lines."""
    return _listed(visible_transfers(user))


def transfer_detail(user: AnyUser, transfer_id: uuid.UUID | str) -> Transfer:
    """One transfer ``user`` may see, with its lines (and their products) and its history
    (and who made each step); UnknownTransfer for one that does not exist or is hidden."""
    try:
        return _detailed(transfer_list(user)).get(pk=transfer_id)
    except (Transfer.DoesNotExist, ValidationError, ValueError):
        raise UnknownTransfer(f"No transfer with id {transfer_id}.") from None


def transfer_after_step(transfer: Transfer) -> Transfer:
    """``transfer`` read again as ``transfer_detail`` reads it, once a step's service has
    returned it: that service has already decided that its actor may see it."""
    return _detailed(_listed(Transfer.objects.all())).get(pk=transfer.pk)


def step_rights(user: AnyUser, transfer: Transfer | None = None) -> Rights:
    """What ``user`` may do at the branches of ``transfer`` (without one, at every branch,
    for a whole list): one query, from which ``available_steps`` is worked out per row."""
    branches = None if transfer is None else (transfer.from_branch_id, transfer.to_branch_id)
    return permissions.rights(user, branches)


def available_steps(user: AnyUser, transfer: Transfer, rights: Rights | None = None) -> list[str]:
    """The steps ``user`` may take on ``transfer`` now, by their API names (e.g. ``approve``),
    in the workflow's order; ``rights`` from ``step_rights`` spares the query."""
    if rights is None:
        rights = step_rights(user, transfer)
    return workflow.available_steps(transfer, rights)


def _listed(transfers: QuerySet[Transfer]) -> QuerySet[Transfer]:
    return (
        transfers.select_related("from_branch", "to_branch", "requested_by")
        .annotate(line_count=_line_count())
        .order_by("-created_at", "-pk")
    )


def _detailed(transfers: QuerySet[Transfer]) -> QuerySet[Transfer]:
    return transfers.prefetch_related(
        Prefetch(
            "lines",
            queryset=TransferLine.objects.select_related("product").order_by("product__sku"),
        ),
        Prefetch("events", queryset=TransferEvent.objects.select_related("actor")),
    )


def _line_count() -> Coalesce:
    # A correlated count, computed for the rows of the page only.
    count = (
        TransferLine.objects.filter(transfer=OuterRef("pk"))
        .order_by()
        .values("transfer")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(count, output_field=IntegerField()), Value(0))
