"""The replenishment plan as the API answers it, and what applying it takes and makes."""

from rest_framework import serializers

from catalog.models import PRICE_DECIMAL_PLACES
from inventory_project.kernel.api import StrictSerializer
from stock.serializers import quantity as amount
from transfers.models import PurchaseOrder, PurchaseOrderStatus, Transfer, TransferStatus
from transfers.replenishment import KEY_MAX_LENGTH, MAX_CHOICES


def money(**kwargs) -> serializers.DecimalField:
    # Prices carry four decimals; a line's total has no bound on its digits.
    return serializers.DecimalField(
        max_digits=None, decimal_places=PRICE_DECIMAL_PLACES, read_only=True, **kwargs
    )


# The plan -------------------------------------------------------------------------------------


class TransferSuggestionSerializer(serializers.Serializer):
    key = serializers.CharField(read_only=True, help_text="Choose it by this key when applying.")
    source = serializers.UUIDField(source="source_id", read_only=True)
    source_code = serializers.CharField(read_only=True)
    quantity = amount(read_only=True, help_text="Whole units for pieces, boxes and packs.")
    source_spare = amount(
        read_only=True,
        allow_null=True,
        help_text="What the source could spare before this; null for a branch whose stock "
        "the caller may not see.",
    )


class RowSerializer(serializers.Serializer):
    level = serializers.UUIDField(source="level_id", read_only=True)
    branch = serializers.UUIDField(source="branch_id", read_only=True)
    branch_code = serializers.CharField(read_only=True)
    product = serializers.UUIDField(source="product_id", read_only=True)
    sku = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    unit = serializers.CharField(read_only=True)
    on_hand = amount(read_only=True)
    incoming = amount(
        read_only=True,
        help_text="Still to come: open orders (drafts too) and transfers into the branch.",
    )
    minimum = amount(read_only=True)
    maximum = amount(read_only=True)
    need = amount(read_only=True, help_text="maximum - (on_hand + incoming).")
    from_rule = serializers.BooleanField(
        read_only=True, help_text="Minimum and maximum come from a reorder rule, not defaults."
    )
    transfers = TransferSuggestionSerializer(many=True, read_only=True)
    to_buy = amount(read_only=True, help_text="What transfers leave to a supplier.")
    order_key = serializers.CharField(
        read_only=True, help_text="Choose the purchase by this key; empty when none is made."
    )
    supplier = serializers.UUIDField(source="supplier_id", read_only=True, allow_null=True)
    order_quantity = amount(
        read_only=True, help_text="to_buy in whole packs, at least the minimum order quantity."
    )
    unit_price = money(allow_null=True)
    line_total = money(allow_null=True)
    currency = serializers.CharField(read_only=True, help_text="The supplier's; empty: none.")
    no_supplier = serializers.CharField(
        read_only=True, help_text="Why nothing can be bought, when something is left to buy."
    )


class OrderSuggestionSerializer(serializers.Serializer):
    supplier = serializers.UUIDField(source="supplier_id", read_only=True)
    supplier_code = serializers.CharField(read_only=True)
    supplier_name = serializers.CharField(read_only=True)
    currency = serializers.CharField(read_only=True)
    lead_time_days = serializers.IntegerField(read_only=True)
    products = serializers.SerializerMethodField()
    total = money()

    def get_products(self, order) -> list[str]:
        """The product ids of the order's lines (the rows with its order_key)."""
        return [str(row.product_id) for row in order.rows]


class BranchPlanSerializer(serializers.Serializer):
    branch = serializers.UUIDField(source="branch_id", read_only=True)
    branch_code = serializers.CharField(read_only=True)
    branch_name = serializers.CharField(read_only=True)
    rows = RowSerializer(many=True, read_only=True)
    orders = OrderSuggestionSerializer(many=True, read_only=True)


class PlanSerializer(serializers.Serializer):
    branches = BranchPlanSerializer(many=True, read_only=True)
    keys = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Every suggestion's key: what POST replenishment/apply/ chooses from.",
    )


# Applying -----------------------------------------------------------------------------------


class ApplySerializer(StrictSerializer):
    branch = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Only this branch's suggestions; omitted or null: every branch the caller "
        "replenishes.",
    )
    choices = serializers.ListField(
        child=serializers.CharField(max_length=KEY_MAX_LENGTH),
        required=False,
        allow_null=True,
        default=None,
        min_length=1,
        max_length=MAX_CHOICES,
        help_text="The keys of the suggestions to apply (rows' order_key, transfers' key); "
        "omitted or null: all of them.",
    )


class MadeTransferSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=TransferStatus.choices, read_only=True)
    from_branch = serializers.UUIDField(source="from_branch_id", read_only=True)
    to_branch = serializers.UUIDField(source="to_branch_id", read_only=True)

    class Meta:
        model = Transfer
        fields = ["id", "reference", "status", "from_branch", "to_branch"]
        read_only_fields = fields


class MadeOrderSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=PurchaseOrderStatus.choices, read_only=True)
    branch = serializers.UUIDField(source="branch_id", read_only=True)
    supplier = serializers.UUIDField(source="supplier_id", read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = ["id", "reference", "status", "branch", "supplier", "currency"]
        read_only_fields = fields


class AppliedSerializer(serializers.Serializer):
    transfers = MadeTransferSerializer(many=True, read_only=True)
    orders = MadeOrderSerializer(many=True, read_only=True)
