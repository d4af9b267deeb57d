"""Fill an empty database with a small company: branches, a catalog, stock and one user per
role, all through the services, as the app would. Safe to run again: what exists is kept,
nothing is added twice."""

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from accounts import services as account_services
from accounts.models import Membership, Role, User
from branches import services as branch_services
from branches.models import Branch, BranchKind
from catalog import services as catalog_services
from catalog.models import Category, Product, Unit
from inventory_project.kernel.errors import DomainError
from stock import services
from stock.models import MovementKind, StockLevel

BRANCHES = [
    (
        "WH-01",
        "Central Warehouse",
        BranchKind.WAREHOUSE,
        "Berlin",
        "Industriestraße 12, 12099 Berlin",
        "Europe/Berlin",
    ),
    (
        "BER-01",
        "Berlin Mitte",
        BranchKind.SHOP,
        "Berlin",
        "Rosenthaler Straße 40, 10178 Berlin",
        "Europe/Berlin",
    ),
    (
        "HAM-01",
        "Hamburg Altona",
        BranchKind.SHOP,
        "Hamburg",
        "Ottenser Hauptstraße 8, 22765 Hamburg",
        "Europe/Berlin",
    ),
    (
        "VIE-01",
        "Vienna Neubau",
        BranchKind.SHOP,
        "Wien",
        "Neubaugasse 25, 1070 Wien",
        "Europe/Vienna",
    ),
]

# Category, SKU prefix, unit, product nouns, pack sizes or varieties.
CATALOG = [
    (
        "Beverages",
        "BEV",
        Unit.PIECE,
        ["Sparkling water", "Apple juice", "Cola", "Iced tea", "Orange juice", "Ginger ale"],
        ["0.33 l", "0.5 l", "1 l", "1.5 l", "6-pack"],
    ),
    (
        "Snacks",
        "SNK",
        Unit.PIECE,
        ["Salted crisps", "Pretzels", "Trail mix", "Oat bar", "Dark chocolate", "Rice crackers"],
        ["small", "regular", "large", "family", "bulk"],
    ),
    (
        "Fresh produce",
        "FRS",
        Unit.KILOGRAM,
        ["Apples", "Carrots", "Potatoes", "Onions", "Tomatoes", "Pears"],
        ["class I", "organic", "regional", "loose", "premium"],
    ),
    (
        "Dairy",
        "DRY",
        Unit.LITRE,
        ["Whole milk", "Oat drink", "Buttermilk", "Cream", "Kefir", "Skimmed milk"],
        ["fresh", "long-life", "organic", "lactose-free", "barista"],
    ),
    (
        "Hardware",
        "HDW",
        Unit.BOX,
        ["Wood screws", "Wall plugs", "Nails", "Washers", "Hex bolts", "Cable ties"],
        ["3 mm", "4 mm", "5 mm", "6 mm", "8 mm"],
    ),
    (
        "Fabrics",
        "FAB",
        Unit.METRE,
        ["Cotton", "Linen", "Denim", "Canvas", "Fleece", "Jersey"],
        ["white", "black", "navy", "natural", "red"],
    ),
    (
        "Cleaning",
        "CLN",
        Unit.PIECE,
        ["Dish soap", "Glass cleaner", "Sponges", "Bin bags", "Floor cleaner", "Hand soap"],
        ["250 ml", "500 ml", "1 l", "refill", "eco"],
    ),
    (
        "Office",
        "OFF",
        Unit.PACK,
        ["Copy paper", "Ballpoint pens", "Sticky notes", "Envelopes", "Staples", "Folders"],
        ["A4", "A5", "blue", "assorted", "recycled"],
    ),
]

DEMO_EMAIL_DOMAIN = "example.com"


def ean13(number: int) -> str:
    """A valid EAN-13 in the in-store range (prefix 20), with its check digit."""
    body = f"20{number:010d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


@contextmanager
def _quiet_logs() -> Iterator[None]:
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


class Command(BaseCommand):
    help = (
        "Create demo branches, products, stock and one user per role. Idempotent: run it "
        "again and nothing is duplicated."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--password",
            default="inventory-demo",
            help="Password given to demo users when they are created (default: %(default)s).",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with DJANGO_ENV=production (demo users have known passwords).",
        )

    def handle(self, *args, password: str, allow_production: bool, **options) -> None:
        if settings.PRODUCTION and not allow_production:
            raise CommandError(
                "Refusing to create demo users with known passwords in production "
                "(pass --allow-production to insist)."
            )
        # The demo's low levels raise alerts; their e-mails and log lines, a hundred of each,
        # would flood the console, so mail sent while seeding (after the commit) goes
        # nowhere and routine log lines are held back.
        try:
            with (
                override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
                _quiet_logs(),
                transaction.atomic(),
            ):
                admin, admin_created = self._admin(password)
                branches = self._branches(admin)
                products = self._catalog(admin)
                accounts = [
                    (admin, "ADMIN", admin_created),
                    *self._users(admin, branches, password),
                ]
                seeded = self._stock(branches, products, actor=admin)
        except DomainError as error:
            raise CommandError(error.message) from None
        self._report(branches, products, accounts, seeded, password)

    @staticmethod
    def _admin(password: str) -> tuple[User, bool]:
        email = f"admin@{DEMO_EMAIL_DOMAIN}"
        user = User.objects.filter(email__iexact=email).first()
        if user:
            return user, False
        admin = account_services.create_first_admin(
            email=email, password=password, full_name="Ada Admin"
        )
        if admin is None:
            # Someone administers this database already: they add the demo's administrator.
            existing = User.objects.filter(is_superuser=True, is_active=True).first()
            admin = account_services.create_user(
                actor=existing,
                email=email,
                password=password,
                full_name="Ada Admin",
                is_admin=True,
            )
        return admin, True

    def _branches(self, admin: User) -> list[Branch]:
        branches = []
        for code, name, kind, city, address, tz in BRANCHES:
            branch = Branch.objects.filter(code=code).first() or branch_services.create_branch(
                actor=admin,
                code=code,
                name=name,
                kind=kind,
                city=city,
                address=address,
                timezone=tz,
            )
            branches.append(branch)
        return branches

    def _catalog(self, admin: User) -> list[Product]:
        rng = random.Random(42)
        existing = set(Product.objects.values_list("sku", flat=True))
        skus = []
        for cat_name, prefix, unit, nouns, variants in CATALOG:
            category = Category.objects.filter(
                name__iexact=cat_name
            ).first() or catalog_services.create_category(actor=admin, name=cat_name)
            for noun in nouns:
                for variant in variants:
                    number = len(skus) + 1
                    sku = f"{prefix}-{number:04d}"
                    skus.append(sku)
                    cost = Decimal(rng.randint(40, 4000)) / 100
                    threshold = Decimal(rng.choice([5, 10, 15, 20, 25]))
                    # Drawn before the skip so every product gets the same values each run.
                    if sku in existing:
                        continue
                    catalog_services.create_product(
                        actor=admin,
                        sku=sku,
                        barcode=ean13(number),
                        name=f"{noun}, {variant}",
                        category_id=category.pk,
                        unit=unit,
                        cost_price=cost,
                        sale_price=(cost * Decimal("1.6")).quantize(Decimal("0.01")),
                        low_stock_threshold=threshold,
                    )
        return list(Product.objects.filter(sku__in=skus).order_by("sku"))

    def _users(
        self, admin: User, branches: list[Branch], password: str
    ) -> list[tuple[User, str, bool]]:
        """Return (user, role label, created) for each branch's MANAGER and STAFF."""
        accounts = []
        for branch in branches:
            for role in (Role.MANAGER, Role.STAFF):
                email = f"{role.lower()}.{branch.code.lower()}@{DEMO_EMAIL_DOMAIN}"
                user = User.objects.filter(email__iexact=email).first()
                if user is None:
                    user = account_services.create_user(
                        actor=admin,
                        email=email,
                        password=password,
                        full_name=f"{role.label.title()} {branch.name}",
                        branch_id=branch.pk,
                        role=role,
                    )
                    accounts.append((user, f"{role} {branch.code}", True))
                    continue
                if not Membership.objects.filter(user=user, branch=branch).exists():
                    account_services.add_membership(
                        actor=admin, email=email, branch_id=branch.pk, role=role
                    )
                accounts.append((user, f"{role} {branch.code}", False))
        return accounts

    def _stock(self, branches: list[Branch], products: list[Product], actor: User) -> int:
        """Receive opening stock for every level not seeded yet; leave about 1 in 8 low."""
        stocked = set(
            StockLevel.objects.filter(branch__in=branches).values_list("branch_id", "product_id")
        )
        seeded = 0
        for branch in branches:
            is_warehouse = branch.code.startswith("WH")
            receipts, sales = [], []
            for product in products:
                if (branch.id, product.id) in stocked:
                    continue
                # Seeded per level, so a second run makes the same choices as the first.
                rng = random.Random(f"{branch.code}/{product.sku}")
                if not is_warehouse and rng.random() < 0.3:
                    continue  # shops carry part of the range
                threshold = product.low_stock_threshold
                received = threshold * (rng.randint(8, 20) if is_warehouse else rng.randint(2, 6))
                receipts.append(
                    services.MovementLine(
                        product_id=product.id, quantity=received, note="Opening stock"
                    )
                )
                sold = received - threshold + rng.randint(1, int(threshold))
                if rng.random() < 0.125:
                    sales.append(
                        services.MovementLine(
                            product_id=product.id, quantity=sold, note="Demo sales"
                        )
                    )
            # A branch's opening stock, then its sales, as batches: one lock round each.
            for kind, lines in ((MovementKind.RECEIPT, receipts), (MovementKind.ISSUE, sales)):
                for start in range(0, len(lines), services.MAX_BATCH_LINES):
                    services.record_stock_batch(
                        actor=actor,
                        branch_id=branch.id,
                        kind=kind,
                        lines=lines[start : start + services.MAX_BATCH_LINES],
                    )
            seeded += len(receipts)
        return seeded

    def _report(self, branches, products, accounts, seeded: int, password: str) -> None:
        low = StockLevel.objects.below_threshold().count()
        self.stdout.write(
            f"Demo data: {len(branches)} branches, {len(products)} products, "
            f"{seeded} stock levels seeded now, {low} below their threshold."
        )
        self.stdout.write("")
        self.stdout.write(f"{'role':<16} {'e-mail':<36} password")
        for user, role, created in accounts:
            shown = password if created else "(existing account, password unchanged)"
            self.stdout.write(f"{role:<16} {user.email:<36} {shown}")
