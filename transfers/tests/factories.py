from decimal import Decimal

from accounts.tests.factories import AdminFactory
from stock import services as stock
from stock.models import StockLevel
from transfers import services


def stocked(branch, product, quantity, actor=None):
    """``branch`` holds ``quantity`` of ``product``, received through the stock service."""
    stock.receive_stock(
        actor=actor or AdminFactory(),
        branch_id=branch.pk,
        product_id=product.pk,
        quantity=quantity,
    )


def items(*pairs):
    """TransferItems from (product, quantity) pairs."""
    return [services.TransferItem(product_id=p.pk, quantity=Decimal(q)) for p, q in pairs]


def sent(actor, source, destination, *pairs, note=""):
    """An APPROVED transfer the source started (push)."""
    return services.send_transfer(
        actor=actor,
        from_branch_id=source.pk,
        to_branch_id=destination.pk,
        items=items(*pairs),
        note=note,
    )


def requested(actor, source, destination, *pairs, note=""):
    """A REQUESTED transfer the destination asked for (pull)."""
    return services.request_transfer(
        actor=actor,
        from_branch_id=source.pk,
        to_branch_id=destination.pk,
        items=items(*pairs),
        note=note,
    )


def on_hand(branch, product) -> Decimal:
    """What ``branch`` holds of ``product`` (nothing when it never held any)."""
    level = StockLevel.objects.filter(branch=branch, product=product).first()
    return level.on_hand if level else Decimal(0)
