from decimal import Decimal

import factory

from catalog.models import Category, Product, Unit


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
