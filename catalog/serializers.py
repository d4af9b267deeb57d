from decimal import Decimal

from rest_framework import serializers

from catalog.models import QUANTITY_DECIMAL_PLACES, QUANTITY_MAX_DIGITS, Category, Product, Unit
from inventory_project.kernel.api import StrictSerializer

ZERO = Decimal("0")


def _max_length(model: type, field: str) -> int:
    return model._meta.get_field(field).max_length


def _price(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, min_value=ZERO, **kwargs)


def _threshold(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS,
        decimal_places=QUANTITY_DECIMAL_PLACES,
        min_value=ZERO,
        help_text="Used by every branch that has not set its own threshold.",
        **kwargs,
    )


BARCODE_HELP = "EAN/UPC or internal code read by scanners; blank or null for none."

# Input ------------------------------------------------------------------------------------


class CategoryCreateSerializer(StrictSerializer):
    """A new category."""

    name = serializers.CharField(max_length=_max_length(Category, "name"))
    description = serializers.CharField(required=False, default="", allow_blank=True)


class CategoryUpdateSerializer(StrictSerializer):
    """Changes to a category; fields left out stay as they are."""

    name = serializers.CharField(max_length=_max_length(Category, "name"), required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class ProductCreateSerializer(StrictSerializer):
    """A new product."""

    sku = serializers.CharField(max_length=_max_length(Product, "sku"))
    barcode = serializers.CharField(
        max_length=_max_length(Product, "barcode"),
        required=False,
        default=None,
        allow_blank=True,
        allow_null=True,
        help_text=BARCODE_HELP,
    )
    name = serializers.CharField(max_length=_max_length(Product, "name"))
    category = serializers.UUIDField(required=False, default=None, allow_null=True)
    unit = serializers.ChoiceField(choices=Unit.choices, required=False, default=Unit.PIECE)
    cost_price = _price(required=False, default=ZERO)
    sale_price = _price(required=False, default=ZERO)
    low_stock_threshold = _threshold(required=False, default=ZERO)
    is_active = serializers.BooleanField(required=False, default=True)


class ProductUpdateSerializer(StrictSerializer):
    """Changes to a product; fields left out stay as they are."""

    sku = serializers.CharField(max_length=_max_length(Product, "sku"), required=False)
    barcode = serializers.CharField(
        max_length=_max_length(Product, "barcode"),
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text=BARCODE_HELP,
    )
    name = serializers.CharField(max_length=_max_length(Product, "name"), required=False)
    category = serializers.UUIDField(required=False, allow_null=True)
    unit = serializers.ChoiceField(
        choices=Unit.choices,
        required=False,
        help_text="Fixed once the product has stock history.",
    )
    cost_price = _price(required=False)
    sale_price = _price(required=False)
    low_stock_threshold = _threshold(required=False)
    is_active = serializers.BooleanField(
        required=False, help_text="Inactive products take no more stock."
    )


class ProductLookupSerializer(serializers.Serializer):
    """Exactly one of ``sku`` and ``barcode``, from the query string."""

    sku = serializers.CharField(
        max_length=_max_length(Product, "sku"),
        required=False,
        help_text="The SKU, whatever its case.",
    )
    barcode = serializers.CharField(
        max_length=_max_length(Product, "barcode"),
        required=False,
        help_text="The barcode exactly as printed.",
    )

    def validate(self, data: dict) -> dict:
        if len(data) != 1:
            raise serializers.ValidationError("Give exactly one of sku and barcode.")
        return data


# Output -----------------------------------------------------------------------------------


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "description"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True, allow_null=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "barcode",
            "name",
            "category",
            "category_name",
            "unit",
            "cost_price",
            "sale_price",
            "low_stock_threshold",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
