from collections.abc import Iterable
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import (
    PRICE_DECIMAL_PLACES,
    PRICE_MAX_DIGITS,
    QUANTITY_DECIMAL_PLACES,
    QUANTITY_MAX_DIGITS,
)
from inventory_project.kernel.api import StrictSerializer
from stock.models import AdjustmentReason, MovementKind, StockLevel, StockMovement
from stock.selectors import level_value, row_threshold
from stock.services import BATCH_KINDS, MAX_BATCH_LINES, NOTE_MAX_LENGTH


def quantity(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS, decimal_places=QUANTITY_DECIMAL_PLACES, **kwargs
    )


def cost(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=PRICE_MAX_DIGITS, decimal_places=PRICE_DECIMAL_PLACES, **kwargs
    )


def unit_cost() -> serializers.DecimalField:
    return cost(
        required=False,
        allow_null=True,
        default=None,
        min_value=Decimal(0),
        help_text="What one unit cost (>= 0, at most 4 decimals); it is averaged into the "
        "level's moving average cost. Omitted or null: the goods enter at the current average.",
    )


def note() -> serializers.CharField:
    return serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, default="", allow_blank=True
    )


# Input ------------------------------------------------------------------------------------


class ThresholdSerializer(StrictSerializer):
    low_stock_threshold = quantity(
        allow_null=True,
        help_text="The branch's own threshold; null inherits the product's default.",
    )


class ThresholdLineSerializer(StrictSerializer):
    product = serializers.UUIDField(source="product_id")
    threshold = quantity(
        allow_null=True,
        help_text="The branch's own threshold (>= 0); null inherits the product's default.",
    )


class ThresholdBatchSerializer(StrictSerializer):
    branch = serializers.UUIDField(source="branch_id")
    lines = serializers.ListField(
        child=ThresholdLineSerializer(), min_length=1, max_length=MAX_BATCH_LINES
    )


class ReceiveSerializer(StrictSerializer):
    branch = serializers.UUIDField(source="branch_id")
    product = serializers.UUIDField(source="product_id")
    quantity = quantity(help_text="How much arrived; greater than zero.")
    note = note()
    unit_cost = unit_cost()


class IssueSerializer(StrictSerializer):
    branch = serializers.UUIDField(source="branch_id")
    product = serializers.UUIDField(source="product_id")
    quantity = quantity(help_text="How much left; greater than zero and at most on hand.")
    note = note()


class AdjustSerializer(StrictSerializer):
    branch = serializers.UUIDField(source="branch_id")
    product = serializers.UUIDField(source="product_id")
    delta = quantity(help_text="The signed correction of on hand; not zero.")
    reason = serializers.ChoiceField(choices=AdjustmentReason.choices)
    note = note()


class CountSerializer(StrictSerializer):
    branch = serializers.UUIDField(source="branch_id")
    product = serializers.UUIDField(source="product_id")
    counted = quantity(help_text="How much is on the shelf; on hand becomes this.")
    note = note()


class BatchLineSerializer(StrictSerializer):
    product = serializers.UUIDField(source="product_id")
    quantity = quantity(
        help_text="RECEIPT and ISSUE: how much (> 0); ADJUSTMENT: the signed change (not zero); "
        "COUNT: how much was counted (>= 0)."
    )
    reason = serializers.ChoiceField(
        choices=AdjustmentReason.choices,
        required=False,
        default="",
        allow_blank=True,
        help_text="Required for ADJUSTMENT lines, refused for the others.",
    )
    note = note()
    unit_cost = cost(
        required=False,
        allow_null=True,
        default=None,
        min_value=Decimal(0),
        help_text="RECEIPT lines only: what one unit cost (>= 0, at most 4 decimals), averaged "
        "into the level's moving average cost.",
    )


class BatchSerializer(StrictSerializer):
    kind = serializers.ChoiceField(
        choices=[(kind, MovementKind(kind).label) for kind in BATCH_KINDS]
    )
    branch = serializers.UUIDField(source="branch_id")
    lines = serializers.ListField(
        child=BatchLineSerializer(), min_length=1, max_length=MAX_BATCH_LINES
    )


class ReorderRuleSerializer(StrictSerializer):
    minimum = quantity(help_text="Replenish when on hand plus what is on its way is below this.")
    maximum = quantity(help_text="Order up to this; not below the minimum.")
    supplier = serializers.UUIDField(
        source="supplier_id",
        required=False,
        allow_null=True,
        default=None,
        help_text="Who to buy from: an active supplier selling the product. Null: the "
        "product's preferred supplier.",
    )


# Output -----------------------------------------------------------------------------------


class ReorderTermsSerializer(serializers.Serializer):
    level = serializers.UUIDField()
    minimum = quantity()
    maximum = quantity()
    supplier = serializers.UUIDField(
        source="supplier_id",
        allow_null=True,
        help_text="The rule's supplier, else the product's preferred one; null when none.",
    )
    from_rule = serializers.BooleanField(
        help_text="False: no rule is set and these are the defaults (the threshold in force, "
        "twice that, the preferred supplier)."
    )


class StockLevelSerializer(serializers.ModelSerializer):
    branch_code = serializers.CharField(source="branch.code")
    sku = serializers.CharField(source="product.sku")
    product_name = serializers.CharField(source="product.name")
    barcode = serializers.CharField(source="product.barcode", allow_null=True)
    unit = serializers.CharField(source="product.unit")
    category = serializers.UUIDField(source="product.category_id", allow_null=True)
    product_active = serializers.BooleanField(source="product.is_active")
    threshold = quantity(
        read_only=True,
        help_text="The threshold in force: the branch's own, else the product's default.",
    )
    is_low = serializers.BooleanField(
        read_only=True, help_text="on_hand is below the threshold in force."
    )
    average_cost = cost(
        read_only=True,
        allow_null=True,
        help_text="Moving average cost of one unit held here; null until something was "
        "received with a cost.",
    )
    value = serializers.SerializerMethodField(
        help_text="on_hand at average_cost, else at the product's cost price; to the cent."
    )

    class Meta:
        model = StockLevel
        fields = [
            "id",
            "branch",
            "branch_code",
            "product",
            "sku",
            "product_name",
            "barcode",
            "unit",
            "category",
            "product_active",
            "on_hand",
            "low_stock_threshold",
            "threshold",
            "is_low",
            "average_cost",
            "value",
            "version",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=30, decimal_places=2))
    def get_value(self, level: StockLevel) -> str:
        return _money.to_representation(
            level_value(level.on_hand, level.average_cost, level.product.cost_price)
        )


class MovementSerializer(serializers.ModelSerializer):
    branch_code = serializers.CharField(source="branch.code")
    sku = serializers.CharField(source="product.sku")
    product_name = serializers.CharField(source="product.name")
    actor_name = serializers.SerializerMethodField()
    unit_cost = cost(
        read_only=True,
        allow_null=True,
        help_text="What one unit of this movement cost (a receipt with a cost) or was worth "
        "(the level's average cost before it); null when not known.",
    )
    average_cost_after = cost(
        read_only=True, allow_null=True, help_text="The level's moving average cost after it."
    )

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "kind",
            "branch",
            "branch_code",
            "product",
            "sku",
            "product_name",
            "stock_level",
            "delta",
            "on_hand_after",
            "unit_cost",
            "average_cost_after",
            "version",
            "actor",
            "actor_name",
            "reason",
            "note",
            "created_at",
        ]
        read_only_fields = fields

    def get_actor_name(self, movement: StockMovement) -> str:
        return movement.actor.full_name or movement.actor.email


# List rows ---------------------------------------------------------------------------------
#
# The lists serialise ``.values()`` rows (see ``stock.selectors.level_rows``) with these
# plain functions instead of a serializer per row; the answer is the same JSON as the
# serializers above give for one level or movement, which stay the schema and the answer of
# single objects. Field instances format values exactly as those serializers do.

_quantity = quantity()
_cost = cost()
_money = serializers.DecimalField(max_digits=30, decimal_places=2)
_moment = serializers.DateTimeField()


def _id(value: object) -> str | None:
    return None if value is None else str(value)


def _optional(field: serializers.Field, value: object) -> object:
    return None if value is None else field.to_representation(value)


def level_list_data(rows: Iterable[dict]) -> list[dict]:
    """``StockLevelSerializer``'s answer for each of ``rows`` (``selectors.level_rows``)."""
    answer = []
    for row in rows:
        threshold = row_threshold(row)
        threshold_of_level = row["low_stock_threshold"]
        answer.append(
            {
                "id": str(row["id"]),
                "branch": str(row["branch_id"]),
                "branch_code": row["branch__code"],
                "product": str(row["product_id"]),
                "sku": row["product__sku"],
                "product_name": row["product__name"],
                "barcode": row["product__barcode"],
                "unit": row["product__unit"],
                "category": _id(row["product__category_id"]),
                "product_active": row["product__is_active"],
                "on_hand": _quantity.to_representation(row["on_hand"]),
                "low_stock_threshold": None
                if threshold_of_level is None
                else _quantity.to_representation(threshold_of_level),
                "threshold": _quantity.to_representation(threshold),
                "is_low": row["on_hand"] < threshold,
                "average_cost": _optional(_cost, row["average_cost"]),
                "value": _money.to_representation(
                    level_value(row["on_hand"], row["average_cost"], row["product__cost_price"])
                ),
                "version": row["version"],
                "updated_at": _moment.to_representation(row["updated_at"]),
            }
        )
    return answer


def movement_list_data(rows: Iterable[dict]) -> list[dict]:
    """``MovementSerializer``'s answer for each of ``rows`` (``selectors.movement_rows``)."""
    return [
        {
            "id": str(row["id"]),
            "kind": row["kind"],
            "branch": str(row["branch_id"]),
            "branch_code": row["branch__code"],
            "product": str(row["product_id"]),
            "sku": row["product__sku"],
            "product_name": row["product__name"],
            "stock_level": str(row["stock_level_id"]),
            "delta": _quantity.to_representation(row["delta"]),
            "on_hand_after": _quantity.to_representation(row["on_hand_after"]),
            "unit_cost": _optional(_cost, row["unit_cost"]),
            "average_cost_after": _optional(_cost, row["average_cost_after"]),
            "version": row["version"],
            "actor": str(row["actor_id"]),
            "actor_name": row["actor__full_name"] or row["actor__email"],
            "reason": row["reason"],
            "note": row["note"],
            "created_at": _moment.to_representation(row["created_at"]),
        }
        for row in rows
    ]


def movement_data(movement: StockMovement) -> dict:
    """``MovementSerializer``'s answer for a movement a write just made, without building a
    ModelSerializer's fields on every request."""
    actor = movement.actor
    return movement_list_data(
        [
            {
                "id": movement.pk,
                "kind": movement.kind,
                "branch_id": movement.branch_id,
                "branch__code": movement.branch.code,
                "product_id": movement.product_id,
                "product__sku": movement.product.sku,
                "product__name": movement.product.name,
                "stock_level_id": movement.stock_level_id,
                "delta": movement.delta,
                "on_hand_after": movement.on_hand_after,
                "unit_cost": movement.unit_cost,
                "average_cost_after": movement.average_cost_after,
                "version": movement.version,
                "actor_id": movement.actor_id,
                "actor__full_name": actor.full_name,
                "actor__email": actor.email,
                "reason": movement.reason,
                "note": movement.note,
                "created_at": movement.created_at,
            }
        ]
    )[0]


class BatchResultSerializer(serializers.Serializer):
    movements = MovementSerializer(many=True)
