"""Add a few transfers between the demo branches, one in each state of the workflow, through
the transfer services. Runs after ``seed_demo``; does nothing once any transfer exists."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from branches.models import Branch
from stock.models import StockLevel
from transfers import services
from transfers.models import Transfer


class Command(BaseCommand):
    help = "Add demo transfers between the demo branches (after seed_demo; once)."

    def handle(self, *args, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo transfers are not for production.")
        if Transfer.objects.exists():
            self.stdout.write("Transfers exist already; nothing added.")
            return
        admin = User.objects.filter(is_superuser=True).order_by("date_joined").first()
        branches = {b.code: b for b in Branch.objects.filter(code__in=["WH-01", "BER-01"])}
        if admin is None or len(branches) < 2:
            raise CommandError("Run seed_demo first.")
        warehouse, shop = branches["WH-01"], branches["BER-01"]
        held = list(
            StockLevel.objects.filter(branch=warehouse, on_hand__gte=10, product__is_active=True)
            .select_related("product")
            .order_by("product__sku")[:8]
        )
        if len(held) < 8:
            raise CommandError("The warehouse holds too little stock; run seed_demo first.")

        def lines(levels, quantity):
            return [
                services.TransferItem(product_id=level.product_id, quantity=quantity)
                for level in levels
            ]

        with transaction.atomic():
            # Waiting for the warehouse to approve.
            services.request_transfer(
                actor=admin,
                from_branch_id=warehouse.pk,
                to_branch_id=shop.pk,
                items=lines(held[0:2], 4),
                note="Weekend restock",
            )
            # On the road.
            on_road = services.send_transfer(
                actor=admin,
                from_branch_id=warehouse.pk,
                to_branch_id=shop.pk,
                items=lines(held[2:4], 3),
            )
            services.ship_transfer(actor=admin, transfer_id=on_road.pk)
            # Half arrived.
            partial = services.send_transfer(
                actor=admin,
                from_branch_id=warehouse.pk,
                to_branch_id=shop.pk,
                items=lines(held[4:6], 2),
            )
            services.ship_transfer(actor=admin, transfer_id=partial.pk)
            services.receive_transfer(
                actor=admin, transfer_id=partial.pk, quantities={held[4].product_id: 2}
            )
            # Done.
            done = services.send_transfer(
                actor=admin,
                from_branch_id=warehouse.pk,
                to_branch_id=shop.pk,
                items=lines(held[6:8], 1),
            )
            services.ship_transfer(actor=admin, transfer_id=done.pk)
            services.receive_transfer(
                actor=admin,
                transfer_id=done.pk,
                quantities={held[6].product_id: 1, held[7].product_id: 1},
            )
        self.stdout.write(self.style.SUCCESS("Added 4 demo transfers from WH-01 to BER-01."))
