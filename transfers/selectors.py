import uuid

from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts import permissions
from accounts.permissions import AnyUser
from transfers.errors import UnknownTransfer
from transfers.models import Transfer, TransferEvent, TransferLine


def visible_transfers(user: AnyUser) -> QuerySet[Transfer]:
    """Transfers into or out of a branch ``user`` may see."""
    return permissions.scope(Transfer.objects.all(), user, via=("from_branch", "to_branch"))


def transfer_list(user: AnyUser) -> QuerySet[Transfer]:
    """The transfers ``user`` may see, newest first, with their branches, requester and
    number of lines."""
    return (
        visible_transfers(user)
        .select_related("from_branch", "to_branch", "requested_by")
        .annotate(line_count=_line_count())
        .order_by("-created_at", "-pk")
    )


def transfer_detail(user: AnyUser, transfer_id: uuid.UUID | str) -> Transfer:
    """One transfer ``user`` may see, with its lines (and their products) and its history
    (and who made each step); UnknownTransfer for one that does not exist or is hidden."""
    transfers = transfer_list(user).prefetch_related(
        Prefetch(
            "lines",
            queryset=TransferLine.objects.select_related("product").order_by("product__sku"),
        ),
        Prefetch("events", queryset=TransferEvent.objects.select_related("actor")),
    )
    try:
        return transfers.get(pk=transfer_id)
    except (Transfer.DoesNotExist, ValidationError, ValueError):
        raise UnknownTransfer(f"No transfer with id {transfer_id}.") from None


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
