"""Add the demo company's suppliers, what they sell, a few reorder rules and purchase orders
in every state, all through the services. Runs after ``seed_demo``; does nothing once any
supplier exists."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from branches.models import Branch
from catalog import services as catalog_services
from catalog.models import Product, Supplier
from stock import services as stock_services
from stock.models import StockLevel
from transfers import purchasing
from transfers.purchasing import OrderItem, ReceiptItem

# Code, name, contact, e-mail, lead time in days, the SKU prefixes (seed_demo's categories)
# it sells, its SKU prefix, the pack size of countable products.
SUPPLIERS = [
    (
        "NORDIC",
        "Nordic Foods GmbH",
        "Lena Berg",
        "orders@nordic-foods.example.com",
        3,
        ["BEV", "SNK", "FRS", "DRY"],
        "NF",
        Decimal("6"),
    ),
    (
        "ACME",
        "Acme Trade Supplies",
        "Sam Carter",
        "purchasing@acme-supplies.example.com",
        7,
        ["HDW", "CLN", "OFF", "FAB"],
        "AC",
        Decimal("10"),
    ),
]


def _price(product: Product) -> Decimal:
    # Bought a little under the catalog's cost price, which is what the shops last paid.
    return (product.cost_price * Decimal("0.92")).quantize(Decimal("0.0001"), ROUND_HALF_UP)


class Command(BaseCommand):
    help = "Add demo suppliers, reorder rules and purchase orders (after seed_demo; once)."

    def handle(self, *args, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo purchasing is not for production.")
        if Supplier.objects.exists():
            self.stdout.write("Suppliers exist already; nothing added.")
            return
        admin = User.objects.filter(is_superuser=True).order_by("date_joined").first()
        branches = {b.code: b for b in Branch.objects.filter(code__in=["WH-01", "BER-01"])}
        if admin is None or len(branches) < 2:
            raise CommandError("Run seed_demo first.")
        products = list(Product.objects.filter(is_active=True).order_by("sku"))
        if not products:
            raise CommandError("The catalog is empty; run seed_demo first.")
        with transaction.atomic():
            suppliers = self._suppliers(admin, products)
            self._reorder_rules(admin, branches["BER-01"], suppliers)
            self._orders(admin, branches, suppliers, products)
        self.stdout.write(
            f"Added {len(suppliers)} suppliers, the products they sell and purchase orders."
        )

    def _suppliers(self, admin: User, products: list[Product]) -> dict[str, Supplier]:
        suppliers = {}
        for code, name, contact, email, lead, prefixes, own, pack in SUPPLIERS:
            supplier = catalog_services.create_supplier(
                actor=admin,
                code=code,
                name=name,
                contact_name=contact,
                email=email,
                lead_time_days=lead,
            )
            suppliers[code] = supplier
            for index, product in enumerate(p for p in products if p.sku[:3] in prefixes):
                countable = product.is_countable
                catalog_services.set_supplier_product(
                    actor=admin,
                    supplier_id=supplier.pk,
                    product_id=product.pk,
                    supplier_sku=f"{own}-{10000 + index}",
                    pack_size=pack if countable else Decimal("1"),
                    price=_price(product),
                    minimum_order_quantity=pack * 2 if countable else Decimal("5"),
                    is_preferred=True,
                )
        return suppliers

    def _reorder_rules(self, admin: User, shop: Branch, suppliers: dict[str, Supplier]) -> None:
        # A few of the shop's levels get rules of their own; the rest use the defaults.
        levels = (
            StockLevel.objects.filter(branch=shop, product__supplied_by__isnull=False)
            .select_related("product")
            .order_by("product__sku")[:6]
        )
        for level in levels:
            minimum = max(level.threshold, Decimal("10"))
            stock_services.set_reorder_rule(
                actor=admin,
                branch_id=shop.pk,
                product_id=level.product_id,
                minimum=minimum,
                maximum=minimum * 3,
            )

    def _orders(
        self,
        admin: User,
        branches: dict[str, Branch],
        suppliers: dict[str, Supplier],
        products: list[Product],
    ) -> None:
        shop, warehouse = branches["BER-01"], branches["WH-01"]
        sold = {
            code: list(supplier.products.select_related("product").order_by("product__sku"))
            for code, supplier in suppliers.items()
        }

        def draft(branch: Branch, code: str, lines: slice, packs: int, note: str = ""):
            items = [
                OrderItem(
                    product_id=line.product_id,
                    quantity=max(line.pack_size * packs, line.minimum_order_quantity),
                )
                for line in sold[code][lines]
            ]
            return purchasing.draft_purchase_order(
                actor=admin,
                branch_id=branch.pk,
                supplier_id=suppliers[code].pk,
                items=items,
                note=note,
            )

        def receive_all(order, share: Decimal = Decimal("1")) -> None:
            order.refresh_from_db()
            items = []
            for line in order.lines.select_related("product").order_by("product__sku"):
                quantity = line.quantity_ordered * share
                if line.product.is_countable:
                    quantity = quantity.to_integral_value()
                if quantity > 0:
                    items.append(ReceiptItem(product_id=line.product_id, quantity=quantity))
            purchasing.receive_purchase_order(actor=admin, order_id=order.pk, items=items)

        # Still being put together.
        draft(shop, "NORDIC", slice(0, 3), 2, "Weekly drinks and snacks")
        # With the supplier, nothing arrived yet.
        sent = draft(warehouse, "ACME", slice(0, 4), 5, "Monthly hardware restock")
        purchasing.send_purchase_order(actor=admin, order_id=sent.pk)
        # Half of it arrived.
        partial = draft(warehouse, "NORDIC", slice(3, 6), 4)
        purchasing.send_purchase_order(actor=admin, order_id=partial.pk)
        receive_all(partial, Decimal("0.5"))
        # All of it arrived.
        done = draft(shop, "ACME", slice(4, 6), 2)
        purchasing.send_purchase_order(actor=admin, order_id=done.pk)
        receive_all(done)
        # Some of it never came; closed short.
        short = draft(shop, "NORDIC", slice(6, 8), 2)
        purchasing.send_purchase_order(actor=admin, order_id=short.pk)
        receive_all(short, Decimal("0.5"))
        purchasing.close_purchase_order(
            actor=admin, order_id=short.pk, reason="The supplier is out of stock until spring."
        )
        # Called off before it was sent.
        cancelled = draft(warehouse, "ACME", slice(6, 8), 3)
        purchasing.cancel_purchase_order(
            actor=admin, order_id=cancelled.pk, reason="Ordered twice by mistake."
        )
