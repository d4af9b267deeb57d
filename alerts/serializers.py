from rest_framework import serializers

from alerts.models import LowStockAlert
from alerts.services import BULK_MAX, NOTE_MAX_LENGTH
from inventory_project.kernel.api import StrictSerializer
from stock.serializers import quantity

# Input ------------------------------------------------------------------------------------


class AcknowledgeSerializer(StrictSerializer):
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH,
        required=False,
        default="",
        allow_blank=True,
        help_text='What is being done about it, e.g. "reordered, due Friday".',
    )


class BulkAcknowledgeSerializer(AcknowledgeSerializer):
    alerts = serializers.ListField(
        child=serializers.UUIDField(),
        min_length=1,
        max_length=BULK_MAX,
        help_text=f"The ids of the alerts to acknowledge, at most {BULK_MAX}.",
    )


# Output -----------------------------------------------------------------------------------


class AlertSerializer(serializers.ModelSerializer):
    branch_code = serializers.CharField(source="branch.code")
    sku = serializers.CharField(source="product.sku")
    product_name = serializers.CharField(source="product.name")
    unit = serializers.CharField(source="product.unit")
    on_hand_at_trigger = quantity(read_only=True)
    threshold_at_trigger = quantity(read_only=True)
    on_hand = quantity(source="stock_level.on_hand", read_only=True, help_text="On hand now.")
    acknowledged_by_name = serializers.SerializerMethodField()

    class Meta:
        model = LowStockAlert
        fields = [
            "id",
            "stock_level",
            "branch",
            "branch_code",
            "product",
            "sku",
            "product_name",
            "unit",
            "status",
            "on_hand_at_trigger",
            "threshold_at_trigger",
            "on_hand",
            "raised_at",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledged_by_name",
            "acknowledgement_note",
            "resolved_at",
            "mail_status",
            "emailed_at",
        ]
        read_only_fields = fields

    def get_acknowledged_by_name(self, alert: LowStockAlert) -> str | None:
        return str(alert.acknowledged_by) if alert.acknowledged_by else None


class BulkAcknowledgedSerializer(serializers.Serializer):
    acknowledged = AlertSerializer(
        many=True,
        help_text="The alerts this request acknowledged; ones already acknowledged or "
        "resolved were left as they are and are not listed.",
    )
