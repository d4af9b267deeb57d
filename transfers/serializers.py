from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from branches.models import Branch
from inventory_project.kernel.api import StrictSerializer
from stock.serializers import quantity
from transfers.models import (
    ShortfallReason,
    Transfer,
    TransferEvent,
    TransferKind,
    TransferLine,
    TransferStatus,
    TransferStep,
)
from transfers.services import MAX_LINES, NOTE_MAX_LENGTH
from transfers.workflow import STEP_NAMES, available_steps


def note(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, default="", allow_blank=True, **kwargs
    )


def quantities(**kwargs) -> serializers.DictField:
    """Product id -> quantity, for products on the transfer."""
    return serializers.DictField(child=quantity(), **kwargs)


# Input ------------------------------------------------------------------------------------


class TransferLineInputSerializer(StrictSerializer):
    product = serializers.UUIDField(source="product_id")
    quantity = quantity(help_text="How much; greater than zero.")


class TransferCreateSerializer(StrictSerializer):
    from_branch = serializers.UUIDField(source="from_branch_id", help_text="The source.")
    to_branch = serializers.UUIDField(source="to_branch_id", help_text="The destination.")
    lines = serializers.ListField(
        source="items",
        child=TransferLineInputSerializer(),
        min_length=1,
        max_length=MAX_LINES,
        help_text=f"What to move: up to {MAX_LINES} lines, each product once.",
    )
    note = note()


class TransferApproveSerializer(StrictSerializer):
    quantities = quantities(
        required=False,
        help_text="Product id -> the quantity the source will send, for requested products "
        "whose quantity changes (> 0); the others keep theirs.",
    )
    note = note()


class TransferShipSerializer(StrictSerializer):
    note = note()


class TransferReceiveSerializer(StrictSerializer):
    quantities = quantities(
        help_text="Product id -> how much of it arrived (> 0, at most what is still to "
        "arrive of it). Products left out stay outstanding."
    )
    note = note()


class TransferCloseSerializer(StrictSerializer):
    reason = serializers.ChoiceField(
        choices=ShortfallReason.choices, help_text="What happened to what is still outstanding."
    )
    note = note()


class TransferCancelSerializer(StrictSerializer):
    reason = note(help_text="Why, if you like; kept on the transfer's history.")


class TransferRejectSerializer(StrictSerializer):
    reason = serializers.CharField(
        max_length=NOTE_MAX_LENGTH,
        allow_blank=True,
        help_text="Why the request is turned down; required, kept on the transfer's history.",
    )


# Output -----------------------------------------------------------------------------------


class BranchReferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Branch
        fields = ["id", "code", "name"]
        read_only_fields = fields


class TransferSerializer(serializers.ModelSerializer):
    """A transfer as a list shows it.

    Its context holds ``rights``: what the reader may do at the transfers' branches
    (``selectors.step_rights``), read once for the whole answer.
    """

    kind = serializers.ChoiceField(
        choices=TransferKind.choices,
        read_only=True,
        help_text="Requested by the destination, or sent by the source.",
    )
    status = serializers.ChoiceField(choices=TransferStatus.choices, read_only=True)
    from_branch = BranchReferenceSerializer(read_only=True)
    to_branch = BranchReferenceSerializer(read_only=True)
    shortfall_reason = serializers.ChoiceField(
        choices=ShortfallReason.choices,
        read_only=True,
        allow_blank=True,
        help_text="Why the receiver closed the transfer with less than was shipped; empty "
        "when it did not.",
    )
    requested_by_name = serializers.SerializerMethodField()
    line_count = serializers.IntegerField(read_only=True, help_text="How many products.")
    available_steps = serializers.SerializerMethodField(
        help_text="The steps the caller may take on the transfer now, in workflow order; each "
        "is the last part of its endpoint (`POST transfers/<id>/<step>/`)."
    )

    class Meta:
        model = Transfer
        fields = [
            "id",
            "reference",
            "kind",
            "status",
            "from_branch",
            "to_branch",
            "requested_by",
            "requested_by_name",
            "note",
            "shortfall_reason",
            "line_count",
            "created_at",
            "updated_at",
            "approved_at",
            "shipped_at",
            "received_at",
            "cancelled_at",
            "available_steps",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=STEP_NAMES)))
    def get_available_steps(self, transfer: Transfer) -> list[str]:
        return available_steps(transfer, self.context["rights"])

    def get_requested_by_name(self, transfer: Transfer) -> str:
        return transfer.requested_by.full_name or transfer.requested_by.email


class TransferLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    unit = serializers.CharField(source="product.unit", read_only=True)
    outstanding = quantity(
        read_only=True,
        help_text="Shipped and still to arrive; zero once the transfer is received or closed.",
    )
    shortfall = quantity(
        read_only=True,
        help_text="Shipped and never received: what the transfer was closed without (see "
        "`shortfall_reason`); zero otherwise.",
    )

    class Meta:
        model = TransferLine
        fields = [
            "product",
            "sku",
            "product_name",
            "unit",
            "requested",
            "shipped",
            "received",
            "outstanding",
            "shortfall",
        ]
        read_only_fields = fields


class TransferEventSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()
    from_status = serializers.ChoiceField(
        choices=TransferStatus.choices,
        read_only=True,
        allow_blank=True,
        help_text="Empty for the first step.",
    )
    to_status = serializers.ChoiceField(choices=TransferStatus.choices, read_only=True)
    step = serializers.ChoiceField(choices=TransferStep.choices, read_only=True)

    class Meta:
        model = TransferEvent
        fields = ["actor", "actor_name", "step", "from_status", "to_status", "note", "created_at"]
        read_only_fields = fields

    def get_actor_name(self, event: TransferEvent) -> str:
        return event.actor.full_name or event.actor.email


class TransferDetailSerializer(TransferSerializer):
    """A transfer with its lines and its history, oldest step first."""

    lines = TransferLineSerializer(many=True, read_only=True)
    events = TransferEventSerializer(many=True, read_only=True)

    class Meta(TransferSerializer.Meta):
        fields = [*TransferSerializer.Meta.fields, "lines", "events"]
        read_only_fields = fields
