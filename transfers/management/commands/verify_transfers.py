from django.core.management.base import BaseCommand, CommandError

from catalog.models import Product
from transfers.conservation import conservation_discrepancies
from transfers.models import TransferLine


class Command(BaseCommand):
    help = (
        "Check that stock is conserved across transfers: per product, on hand over all "
        "branches plus stock in transit equals what was booked in and out less recorded "
        "shortfalls, and every transfer line's shipped and received quantities equal the "
        "movements it wrote. Lists each discrepancy and exits non-zero."
    )

    def handle(self, *args, **options) -> None:
        discrepancies = conservation_discrepancies()
        for discrepancy in discrepancies:
            self.stdout.write(str(discrepancy))
        if discrepancies:
            raise CommandError(
                f"{len(discrepancies)} discrepancy(ies) in the stock moved by transfers."
            )
        products = Product.objects.count()
        lines = TransferLine.objects.count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Transfers consistent: {products} products and {lines} transfer lines checked."
            )
        )
