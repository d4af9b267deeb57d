from decimal import Decimal

import factory

from accounts.tests.factories import AdminFactory, UserFactory
from branches.tests.factories import BranchFactory
from stock import services as stock
from stock.models import StockLevel
from transfers import purchasing, services
from transfers.models import PurchaseOrder, PurchaseOrderLine


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


# Purchase orders --------------------------------------------------------------------------


def offered(supplier, product, *, pack_size="1", price="2.5000", minimum="0", preferred=False):
    """``supplier`` sells ``product`` (a SupplierProduct), in packs of ``pack_size``."""
    from catalog.tests.factories import SupplierProductFactory

    return SupplierProductFactory(
        supplier=supplier,
        product=product,
        pack_size=Decimal(pack_size),
        price=Decimal(price),
        minimum_order_quantity=Decimal(minimum),
        is_preferred=preferred,
    )


def order_items(*pairs):
    """OrderItems from (product, quantity) or (product, quantity, unit_price) tuples."""
    return [
        purchasing.OrderItem(
            product_id=pair[0].pk,
            quantity=Decimal(pair[1]),
            unit_price=Decimal(pair[2]) if len(pair) > 2 else None,
        )
        for pair in pairs
    ]


def receipt_items(*pairs, reason=""):
    """ReceiptItems from (product, quantity) or (product, quantity, unit_cost) tuples."""
    return [
        purchasing.ReceiptItem(
            product_id=pair[0].pk,
            quantity=Decimal(pair[1]),
            unit_cost=Decimal(pair[2]) if len(pair) > 2 else None,
            reason=reason,
        )
        for pair in pairs
    ]


def drafted_order(actor, branch, supplier, *pairs, note=""):
    """A DRAFT order of ``branch`` to ``supplier``, drafted through the service; each
    product is offered by the supplier first unless it already is."""
    from catalog.models import SupplierProduct

    for pair in pairs:
        if not SupplierProduct.objects.filter(supplier=supplier, product=pair[0]).exists():
            offered(supplier, pair[0])
    return purchasing.draft_purchase_order(
        actor=actor,
        branch_id=branch.pk,
        supplier_id=supplier.pk,
        items=order_items(*pairs),
        note=note,
    )


def sent_order(actor, branch, supplier, *pairs, note=""):
    """A SENT order (drafted, then sent, through the services)."""
    order = drafted_order(actor, branch, supplier, *pairs, note=note)
    return purchasing.send_purchase_order(actor=actor, order_id=order.pk)


class PurchaseOrderFactory(factory.django.DjangoModelFactory):
    """An order row written directly, for reads (lists, query counts): steps that change
    it go through transfers.purchasing."""

    class Meta:
        model = PurchaseOrder

    branch = factory.SubFactory(BranchFactory)
    supplier = factory.SubFactory("catalog.tests.factories.SupplierFactory")
    currency = "EUR"
    created_by = factory.SubFactory(UserFactory)


class PurchaseOrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseOrderLine

    order = factory.SubFactory(PurchaseOrderFactory)
    product = factory.SubFactory("catalog.tests.factories.ProductFactory")
    quantity_ordered = Decimal("10")
    unit_price = Decimal("2.5000")
