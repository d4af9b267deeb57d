from django.core.management.base import BaseCommand, CommandError

from stock.models import StockLevel
from stock.selectors import ledger_discrepancies


class Command(BaseCommand):
    help = (
        "Check that every stock level's on hand equals the sum of its movements (and its "
        "version their number). Lists each level that does not and exits non-zero."
    )

    def handle(self, *args, **options) -> None:
        bad = 0
        for level in ledger_discrepancies().iterator():
            bad += 1
            self.stdout.write(
                f"{level.branch.code}\t{level.product.sku}\ton_hand={level.on_hand}\t"
                f"ledger_sum={level.ledger_total}\tversion={level.version}\t"
                f"movements={level.movement_count}"
            )
        if bad:
            raise CommandError(f"{bad} stock level(s) disagree with the ledger.")
        checked = StockLevel.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Ledger consistent: {checked} stock levels checked."))
