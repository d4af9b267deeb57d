"""What the purchase order API reads and answers."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import PRICE_DECIMAL_PLACES, PRICE_MAX_DIGITS, Supplier
from inventory_project.kernel.api import StrictSerializer
from stock.serializers import quantity
from transfers.models import (
    OrderMailStatus,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    PurchaseOrderStep,
    PurchaseReceipt,
)
from transfers.purchase_workflow import STEP_NAMES, available_steps
from transfers.purchasing import MAX_LINES, NOTE_MAX_LENGTH, REASON_MAX_LENGTH
from transfers.serializers import BranchReferenceSerializer


def price(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=PRICE_MAX_DIGITS, decimal_places=PRICE_DECIMAL_PLACES, **kwargs
    )


def text(max_length: int = NOTE_MAX_LENGTH, **kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length, required=False, default="", allow_blank=True, **kwargs
    )


# Input ------------------------------------------------------------------------------------


class OrderLineInputSerializer(StrictSerializer):
    product = serializers.UUIDField(source="product_id")
    quantity = quantity(
        help_text="How much, in the product's unit: whole packs of the supplier's pack size "
        "and at least its minimum order quantity."
    )
    unit_price = price(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        help_text="Price of one unit in the supplier's currency; left out or null, the "
        "supplier's price for the product.",
    )


def order_lines(
    help_text: str = f"What to order: up to {MAX_LINES} lines, each product once.",
) -> serializers.ListField:
    return serializers.ListField(
        source="items",
        child=OrderLineInputSerializer(),
        min_length=1,
        max_length=MAX_LINES,
        help_text=help_text,
    )


class PurchaseOrderCreateSerializer(StrictSerializer):
    branch = serializers.UUIDField(source="branch_id", help_text="The branch that orders.")
    supplier = serializers.UUIDField(source="supplier_id", help_text="Who to order from.")
    lines = order_lines()
    note = text()


class PurchaseOrderUpdateSerializer(StrictSerializer):
    lines = order_lines(help_text="The draft's new lines; they replace all of its lines.")
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text="The draft's new note; left out, the note stays.",
    )


class ReceiptLineInputSerializer(StrictSerializer):
    product = serializers.UUIDField(source="product_id")
    quantity = quantity(help_text="How much of it arrived; greater than zero.")
    unit_cost = price(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        help_text="What one unit cost; left out or null, the line's unit price.",
    )
    reason = text(
        REASON_MAX_LENGTH,
        help_text="Why more arrived than ordered beyond the tolerance; required then.",
    )


class PurchaseOrderReceiveSerializer(StrictSerializer):
    lines = serializers.ListField(
        source="items",
        child=ReceiptLineInputSerializer(),
        min_length=1,
        max_length=MAX_LINES,
        help_text="What arrived: products on the order, each once.",
    )
    note = text()


class PurchaseOrderSendSerializer(StrictSerializer):
    note = text()


class PurchaseOrderCloseSerializer(StrictSerializer):
    reason = serializers.CharField(
        max_length=NOTE_MAX_LENGTH,
        allow_blank=True,
        help_text="Why the rest will not come; required, kept on the order.",
    )


class PurchaseOrderCancelSerializer(StrictSerializer):
    reason = text(help_text="Why, if you like; kept on the order's history.")


# Output -----------------------------------------------------------------------------------


class SupplierReferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Supplier
        fields = ["id", "code", "name"]
        read_only_fields = fields


class PurchaseOrderSerializer(serializers.ModelSerializer):
    """An order as a list shows it.

    Its context holds ``rights``: what the reader may do at the orders' branches
    (``purchase_selectors.step_rights``), read once for the whole answer.
    """

    status = serializers.ChoiceField(choices=PurchaseOrderStatus.choices, read_only=True)
    branch = BranchReferenceSerializer(read_only=True)
    supplier = SupplierReferenceSerializer(read_only=True)
    created_by_name = serializers.SerializerMethodField()
    mail_status = serializers.ChoiceField(
        choices=OrderMailStatus.choices,
        read_only=True,
        allow_blank=True,
        help_text="The e-mail to the supplier: empty until the order is sent, then PENDING, "
        "SENDING, SENT, or FAILED (see mail_problem).",
    )
    line_count = serializers.IntegerField(read_only=True, help_text="How many products.")
    available_steps = serializers.SerializerMethodField(
        help_text="The steps the caller may take on the order now, in workflow order; each is "
        "the last part of its endpoint (`POST purchase-orders/<id>/<step>/`), except `edit` "
        "(`PATCH purchase-orders/<id>/`)."
    )

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "reference",
            "status",
            "branch",
            "supplier",
            "currency",
            "note",
            "created_by",
            "created_by_name",
            "created_at",
            "updated_at",
            "sent_at",
            "expected_on",
            "received_at",
            "cancelled_at",
            "short_reason",
            "mail_status",
            "mail_sent_at",
            "mail_problem",
            "line_count",
            "available_steps",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=STEP_NAMES)))
    def get_available_steps(self, order: PurchaseOrder) -> list[str]:
        return available_steps(order, self.context["rights"])

    def get_created_by_name(self, order: PurchaseOrder) -> str:
        return order.created_by.full_name or order.created_by.email


class PurchaseReceiptSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = PurchaseReceipt
        fields = [
            "id",
            "quantity",
            "unit_cost",
            "reason",
            "movement",
            "actor",
            "actor_name",
            "created_at",
        ]
        read_only_fields = fields

    def get_actor_name(self, receipt: PurchaseReceipt) -> str:
        return receipt.actor.full_name or receipt.actor.email


class PurchaseOrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    unit = serializers.CharField(source="product.unit", read_only=True)
    outstanding = quantity(
        read_only=True,
        help_text="Ordered and still to arrive; zero for a draft, a cancelled or a received order.",
    )
    receipts = PurchaseReceiptSerializer(many=True, read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = [
            "product",
            "sku",
            "product_name",
            "unit",
            "supplier_sku",
            "quantity_ordered",
            "quantity_received",
            "unit_price",
            "outstanding",
            "receipts",
        ]
        read_only_fields = fields


class PurchaseOrderEventSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()
    from_status = serializers.ChoiceField(
        choices=PurchaseOrderStatus.choices,
        read_only=True,
        allow_blank=True,
        help_text="Empty for the first step.",
    )
    to_status = serializers.ChoiceField(choices=PurchaseOrderStatus.choices, read_only=True)
    step = serializers.ChoiceField(choices=PurchaseOrderStep.choices, read_only=True)

    class Meta:
        model = PurchaseOrderEvent
        fields = ["actor", "actor_name", "step", "from_status", "to_status", "note", "created_at"]
        read_only_fields = fields

    def get_actor_name(self, event: PurchaseOrderEvent) -> str:
        return event.actor.full_name or event.actor.email


class PurchaseOrderDetailSerializer(PurchaseOrderSerializer):
    """An order with its lines (each with its receipts) and its history, oldest step
    first."""

    lines = PurchaseOrderLineSerializer(many=True, read_only=True)
    events = PurchaseOrderEventSerializer(many=True, read_only=True)

    class Meta(PurchaseOrderSerializer.Meta):
        fields = [*PurchaseOrderSerializer.Meta.fields, "lines", "events"]
        read_only_fields = fields
