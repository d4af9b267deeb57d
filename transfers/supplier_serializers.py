"""The supplier API's input and output."""

from decimal import Decimal

from rest_framework import serializers

from catalog.models import (
    PRICE_DECIMAL_PLACES,
    PRICE_MAX_DIGITS,
    QUANTITY_DECIMAL_PLACES,
    QUANTITY_MAX_DIGITS,
    Supplier,
    SupplierProduct,
)
from catalog.services import MAX_LEAD_TIME_DAYS
from inventory_project.kernel.api import StrictSerializer

ZERO = Decimal("0")


def _max_length(model: type, field: str) -> int:
    return model._meta.get_field(field).max_length


def _quantity(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS, decimal_places=QUANTITY_DECIMAL_PLACES, **kwargs
    )


# Input --------------------------------------------------------------------------------------


class SupplierCreateSerializer(StrictSerializer):
    """A new supplier."""

    code = serializers.CharField(
        max_length=_max_length(Supplier, "code"),
        help_text="Short unique code, upper-case letters, digits and hyphens (any case is "
        "taken and kept in capitals).",
    )
    name = serializers.CharField(max_length=_max_length(Supplier, "name"))
    contact_name = serializers.CharField(
        max_length=_max_length(Supplier, "contact_name"),
        required=False,
        default="",
        allow_blank=True,
    )
    email = serializers.CharField(
        max_length=_max_length(Supplier, "email"),
        required=False,
        default="",
        allow_blank=True,
        help_text="Where purchase orders are sent; without one no order can be sent.",
    )
    phone = serializers.CharField(
        max_length=_max_length(Supplier, "phone"), required=False, default="", allow_blank=True
    )
    lead_time_days = serializers.IntegerField(
        min_value=0, max_value=MAX_LEAD_TIME_DAYS, required=False, default=7
    )
    currency = serializers.CharField(
        max_length=3, required=False, default="EUR", help_text="ISO 4217 code, e.g. EUR."
    )
    is_active = serializers.BooleanField(required=False, default=True)


class SupplierUpdateSerializer(StrictSerializer):
    """Changes to a supplier; fields left out stay as they are. ``is_active`` false
    deactivates it (no new orders), true reactivates it."""

    code = serializers.CharField(max_length=_max_length(Supplier, "code"), required=False)
    name = serializers.CharField(max_length=_max_length(Supplier, "name"), required=False)
    contact_name = serializers.CharField(
        max_length=_max_length(Supplier, "contact_name"), required=False, allow_blank=True
    )
    email = serializers.CharField(
        max_length=_max_length(Supplier, "email"), required=False, allow_blank=True
    )
    phone = serializers.CharField(
        max_length=_max_length(Supplier, "phone"), required=False, allow_blank=True
    )
    lead_time_days = serializers.IntegerField(
        min_value=0, max_value=MAX_LEAD_TIME_DAYS, required=False
    )
    currency = serializers.CharField(max_length=3, required=False)
    is_active = serializers.BooleanField(required=False)


class SupplierProductSetSerializer(StrictSerializer):
    """How the supplier sells one product: adds the line, or replaces the one there."""

    product = serializers.UUIDField(help_text="The product's id.")
    supplier_sku = serializers.CharField(
        max_length=_max_length(SupplierProduct, "supplier_sku"),
        required=False,
        default="",
        allow_blank=True,
    )
    pack_size = _quantity(
        required=False,
        default=Decimal("1"),
        help_text="Orders are whole packs of this many units; greater than zero, whole for "
        "countable products.",
    )
    price = serializers.DecimalField(
        max_digits=PRICE_MAX_DIGITS,
        decimal_places=PRICE_DECIMAL_PLACES,
        min_value=ZERO,
        required=False,
        default=ZERO,
        help_text="Price of one unit of the product in the supplier's currency, up to four "
        "decimals.",
    )
    minimum_order_quantity = _quantity(
        min_value=ZERO,
        required=False,
        default=ZERO,
        help_text="The least the supplier takes in one order, in the product's unit.",
    )
    is_preferred = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true makes this the product's preferred supplier, taking the flag from "
        "any other.",
    )


class SupplierListQuerySerializer(serializers.Serializer):
    """The list's filters, from the query string."""

    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Name, code, contact or e-mail contains this, whatever its case.",
    )
    is_active = serializers.ChoiceField(
        choices=["true", "false"],
        required=False,
        help_text="Only active (true) or inactive (false) suppliers.",
    )


# Output -------------------------------------------------------------------------------------


class SupplierSerializer(serializers.ModelSerializer):
    # Plain text: empty when the supplier has no e-mail (and then takes no orders).
    email = serializers.CharField(
        read_only=True, help_text="Where purchase orders are sent; empty for none."
    )
    product_count = serializers.IntegerField(
        read_only=True, help_text="How many products the supplier sells."
    )

    class Meta:
        model = Supplier
        fields = [
            "id",
            "code",
            "name",
            "contact_name",
            "email",
            "phone",
            "lead_time_days",
            "currency",
            "is_active",
            "product_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SupplierProductSerializer(serializers.ModelSerializer):
    product_sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    unit = serializers.CharField(source="product.unit", read_only=True)

    class Meta:
        model = SupplierProduct
        fields = [
            "product",
            "product_sku",
            "product_name",
            "unit",
            "supplier_sku",
            "pack_size",
            "price",
            "minimum_order_quantity",
            "is_preferred",
            "updated_at",
        ]
        read_only_fields = fields
