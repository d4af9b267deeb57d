import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Upper

from accounts import permissions
from accounts.permissions import Action, AnyUser, Rights
from branches.models import Branch
from catalog.models import Product
from stock.models import StockLevel
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


# Starting a transfer ----------------------------------------------------------------------

SUGGESTIONS = 10
SUGGEST_MIN_LENGTH = 2


def product_suggestions(text: str, *, limit: int = SUGGESTIONS) -> list[Product]:
    """Up to ``limit`` active products whose SKU, name or barcode contains ``text`` (the
    trigram indexes of the catalog serve it), the exact SKU or barcode first, then by name;
    nothing for fewer than two characters."""
    # PostgreSQL cannot compare text holding a NUL character: it is no part of any product.
    text = text.replace("\x00", "").strip()[:100]
    if len(text) < SUGGEST_MIN_LENGTH:
        return []
    exact = Q(sku__iexact=text) | Q(barcode=text)
    return list(
        Product.objects.filter(is_active=True)
        .filter(Q(sku__icontains=text) | Q(name__icontains=text) | Q(barcode__icontains=text))
        .annotate(exact=Case(When(exact, then=Value(0)), default=Value(1)))
        .order_by("exact", "name", "pk")
        .only("id", "sku", "name", "unit", "barcode", "is_active")[:limit]
    )


def products_by_code(codes: Iterable[str]) -> dict[str, Product]:
    """The products people named by SKU (whatever its case) or barcode, keyed by the code
    upper-cased: one query however many lines."""
    cleaned = (code.replace("\x00", "").strip() for code in codes if code)
    wanted = {code for code in cleaned if code}
    if not wanted:
        return {}
    upper = {code.upper() for code in wanted}
    found: dict[str, Product] = {}
    products = Product.objects.annotate(sku_upper=Upper("sku")).filter(
        Q(sku_upper__in=upper) | Q(barcode__in=wanted)
    )
    for product in products:
        if product.barcode and product.barcode.upper() in upper:
            found.setdefault(product.barcode.upper(), product)
        found[product.sku.upper()] = product
    return found


def may_see_stock(user: AnyUser, branch: Branch | None) -> bool:
    """May ``user`` see what ``branch`` holds? Only where they may view the branch."""
    return branch is not None and permissions.can(user, Action.VIEW, branch)


def on_hand(
    user: AnyUser, branch: Branch | None, product_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Decimal] | None:
    """What ``branch`` holds of each product (0 for one it never held), or None when
    ``user`` may not see the branch's stock: never another branch's figures. One query for
    the rights (none once noted) and one for the levels."""
    if not may_see_stock(user, branch):
        return None
    ids = list(dict.fromkeys(product_ids))
    held = dict.fromkeys(ids, Decimal(0))
    if ids:
        levels = StockLevel.objects.filter(branch=branch, product_id__in=ids)
        held.update(levels.values_list("product_id", "on_hand"))
    return held


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
