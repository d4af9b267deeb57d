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
