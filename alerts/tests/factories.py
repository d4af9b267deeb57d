import factory
from django.utils import timezone

from accounts.tests.factories import AdminFactory
from alerts.models import AlertStatus, LowStockAlert
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from stock.models import StockLevel


class EmptyStockLevelFactory(factory.django.DjangoModelFactory):
    """A level that has seen no movement yet: nothing on hand, so below the product's
    default threshold (10), and consistent with its (empty) ledger."""

    class Meta:
        model = StockLevel
        django_get_or_create = ["branch", "product"]

    branch = factory.SubFactory(BranchFactory)
    product = factory.SubFactory(ProductFactory)


class LowStockAlertFactory(factory.django.DjangoModelFactory):
    """An OPEN alert on ``stock_level``, with its branch, product and quantities taken from
    the level; ``acknowledged=True`` or ``resolved=True`` for the later states."""

    class Meta:
        model = LowStockAlert

    stock_level = factory.SubFactory(EmptyStockLevelFactory)
    branch = factory.SelfAttribute("stock_level.branch")
    product = factory.SelfAttribute("stock_level.product")
    on_hand_at_trigger = factory.SelfAttribute("stock_level.on_hand")
    threshold_at_trigger = factory.LazyAttribute(lambda alert: alert.stock_level.threshold)

    class Params:
        acknowledged = factory.Trait(
            status=AlertStatus.ACKNOWLEDGED,
            acknowledged_at=factory.LazyFunction(timezone.now),
            acknowledged_by=factory.SubFactory(AdminFactory),
        )
        resolved = factory.Trait(
            status=AlertStatus.RESOLVED, resolved_at=factory.LazyFunction(timezone.now)
        )
