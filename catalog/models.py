import uuid
from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils.translation import gettext_lazy as _

# Quantities are exact decimals: up to 11 integer digits and 3 decimals (grams, millimetres).
QUANTITY_MAX_DIGITS = 14
QUANTITY_DECIMAL_PLACES = 3
MAX_QUANTITY = Decimal(10 ** (QUANTITY_MAX_DIGITS - QUANTITY_DECIMAL_PLACES)) - Decimal("0.001")


class Unit(models.TextChoices):
    PIECE = "pcs", _("pieces")
    BOX = "box", _("boxes")
    PACK = "pack", _("packs")
    KILOGRAM = "kg", _("kilograms")
    GRAM = "g", _("grams")
    LITRE = "l", _("litres")
    MILLILITRE = "ml", _("millilitres")
    METRE = "m", _("metres")

    @property
    def is_countable(self) -> bool:
        """Countable units only ever move in whole numbers."""
        return self in {Unit.PIECE, Unit.BOX, Unit.PACK}


class Category(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(Lower("name"), name="category_name_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """Something a branch can hold: identified by SKU, optionally by a scannable barcode."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sku = models.CharField(
        "SKU",
        max_length=64,
        unique=True,
        validators=[
            RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", "Letters, digits and . _ / - only.")
        ],
    )
    barcode = models.CharField(
        max_length=48,
        unique=True,
        null=True,
        blank=True,
        validators=[RegexValidator(r"^[!-~]+$", "Printable characters without spaces only.")],
        help_text="EAN/UPC or internal code read by scanners.",
    )
    name = models.CharField(max_length=200)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", null=True, blank=True
    )
    unit = models.CharField(max_length=8, choices=Unit.choices, default=Unit.PIECE)
    cost_price = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    sale_price = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    low_stock_threshold = models.DecimalField(
        "default low-stock threshold",
        max_digits=QUANTITY_MAX_DIGITS,
        decimal_places=QUANTITY_DECIMAL_PLACES,
        default=Decimal("0"),
        validators=[MinValueValidator(0)],
        help_text="Used by every branch that has not set its own threshold.",
    )
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Deactivate instead of deleting once a product has stock history.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["name"], name="product_name_idx"),
            models.Index(fields=["is_active"], name="product_active_idx"),
            models.Index(fields=["updated_at"], name="product_updated_idx"),
        ]
        constraints = [
            # Upper, as Django's case-insensitive lookups compare: this also serves
            # sku__iexact (the scanner lookup).
            models.UniqueConstraint(Upper("sku"), name="product_sku_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(cost_price__gte=0) & models.Q(sale_price__gte=0),
                name="product_prices_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(low_stock_threshold__gte=0),
                name="product_threshold_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} · {self.name}"

    @property
    def is_countable(self) -> bool:
        return Unit(self.unit).is_countable


class Supplier(models.Model):
    """Someone products are bought from: who to write to, how long they take to deliver and
    in which currency they price."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(
        max_length=16,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Z0-9][A-Z0-9-]*$", "Use upper-case letters, digits and hyphens, e.g. ACME."
            )
        ],
        help_text="Short unique code used on orders, e.g. ACME.",
    )
    name = models.CharField(max_length=200)
    contact_name = models.CharField("contact", max_length=120, blank=True)
    email = models.EmailField(
        "e-mail", blank=True, help_text="Where purchase orders are sent; none, none can be sent."
    )
    phone = models.CharField(max_length=40, blank=True)
    lead_time_days = models.PositiveSmallIntegerField(
        "lead time (days)", default=7, help_text="Days from sending an order to its delivery."
    )
    currency = models.CharField(
        max_length=3,
        default="EUR",
        validators=[RegexValidator(r"^[A-Z]{3}$", "An ISO 4217 code, e.g. EUR.")],
    )
    is_active = models.BooleanField(
        "active", default=True, help_text="Inactive suppliers take no new orders."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"], name="supplier_name_idx")]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="supplier_name_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(lead_time_days__lte=365), name="supplier_lead_time_within_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


# Supplier prices carry four decimals: a screw at 0.0375 a piece.
PRICE_MAX_DIGITS = 14
PRICE_DECIMAL_PLACES = 4


class SupplierProduct(models.Model):
    """A product as one supplier sells it: their SKU, the pack it comes in, the price of one
    unit (the product's own unit) and the least they will take in one order."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Covered by the (supplier, product) unique index.
    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="products", db_index=False
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="supplied_by")
    supplier_sku = models.CharField("supplier's SKU", max_length=64, blank=True)
    pack_size = models.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS,
        decimal_places=QUANTITY_DECIMAL_PLACES,
        default=Decimal("1"),
        help_text="Orders are whole packs: a multiple of this, in the product's unit.",
    )
    price = models.DecimalField(
        "unit price",
        max_digits=PRICE_MAX_DIGITS,
        decimal_places=PRICE_DECIMAL_PLACES,
        default=Decimal("0"),
        help_text="Price of one unit of the product, in the supplier's currency.",
    )
    minimum_order_quantity = models.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS,
        decimal_places=QUANTITY_DECIMAL_PLACES,
        default=Decimal("0"),
        help_text="The least the supplier takes in one order, in the product's unit.",
    )
    is_preferred = models.BooleanField(
        "preferred",
        default=False,
        help_text="The supplier reorder rules use for this product when they name none.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["supplier", "product__sku"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "product"], name="supplier_product_unique"),
            models.UniqueConstraint(
                fields=["product"],
                condition=models.Q(is_preferred=True),
                name="supplier_product_one_preferred",
            ),
            models.CheckConstraint(
                condition=models.Q(pack_size__gt=0), name="supplier_product_pack_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="supplier_product_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(minimum_order_quantity__gte=0),
                name="supplier_product_moq_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} from {self.supplier.code}"
