from decimal import Decimal

import factory

from catalog.models import Category, Product, Supplier, SupplierProduct, Unit


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = factory.SubFactory(CategoryFactory)
    unit = Unit.PIECE
    cost_price = Decimal("1.00")
    sale_price = Decimal("1.60")
    low_stock_threshold = Decimal("10")


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    code = factory.Sequence(lambda n: f"SUP{n:04d}")
    name = factory.Sequence(lambda n: f"Supplier {n}")
    contact_name = "Dana Buyer"
    email = factory.Sequence(lambda n: f"orders{n}@supplier.example")
    phone = "+31 20 555 0100"
    lead_time_days = 7
    currency = "EUR"
    is_active = True


class SupplierProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierProduct

    supplier = factory.SubFactory(SupplierFactory)
    product = factory.SubFactory(ProductFactory)
    supplier_sku = factory.Sequence(lambda n: f"S-{n:05d}")
    pack_size = Decimal("1")
    price = Decimal("0.8000")
    minimum_order_quantity = Decimal("0")
    is_preferred = False
