import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.models import Branch
from catalog.models import Product, Supplier
from stock.models import StockMovement, cost_field, quantity_field

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def new_reference(prefix: str = "TR") -> str:
    """A short code people can read out over the phone, e.g. TR-261121-K7QX2M."""
    token = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"{prefix}-{timezone.now():%y%m%d}-{token}"


def new_order_reference() -> str:
    """A purchase order's reference, e.g. PO-261121-K7QX2M."""
    return new_reference("PO")


class TransferStatus(models.TextChoices):
    REQUESTED = "REQUESTED", _("requested")
    APPROVED = "APPROVED", _("approved")
    IN_TRANSIT = "IN_TRANSIT", _("in transit")
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED", _("partially received")
    RECEIVED = "RECEIVED", _("received")
    CANCELLED = "CANCELLED", _("cancelled")


# Goods that left the source and are still to be received or accounted for.
UNDER_WAY = (TransferStatus.IN_TRANSIT, TransferStatus.PARTIALLY_RECEIVED)


class TransferKind(models.TextChoices):
    PULL = "PULL", _("requested by the destination")
    PUSH = "PUSH", _("sent by the source")


class ShortfallReason(models.TextChoices):
    LOST = "LOST", _("lost")
    DAMAGED = "DAMAGED", _("damaged")


class Transfer(models.Model):
    """Goods moving from one branch to another, from the request to the last receipt.

    While under way the goods belong to no branch's on hand: shipped - received of each line
    is in transit until it is received, or recorded as a shortfall when the receiver closes
    the transfer.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=20, unique=True, default=new_reference)
    from_branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="transfers_out", db_index=False
    )
    to_branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="transfers_in", db_index=False
    )
    kind = models.CharField(max_length=4, choices=TransferKind.choices)
    status = models.CharField(max_length=20, choices=TransferStatus.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transfers_requested"
    )
    note = models.CharField(max_length=500, blank=True)
    shortfall_reason = models.CharField(
        max_length=16,
        choices=ShortfallReason.choices,
        blank=True,
        help_text="Why the receiver closed the transfer with less than was shipped.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["-created_at"], name="transfer_time_idx"),
            models.Index(fields=["from_branch", "-created_at"], name="transfer_from_time_idx"),
            models.Index(fields=["to_branch", "-created_at"], name="transfer_to_time_idx"),
            models.Index(fields=["status", "-created_at"], name="transfer_status_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_branch=models.F("to_branch")),
                name="transfer_between_two_branches",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=TransferStatus.values), name="transfer_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(shortfall_reason="") | models.Q(status=TransferStatus.RECEIVED),
                name="transfer_shortfall_only_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def requesting_branch(self) -> Branch:
        """The branch that asked for it: the destination of a request, the source of a push."""
        return self.to_branch if self.kind == TransferKind.PULL else self.from_branch


class TransferLine(models.Model):
    """One product of a transfer: how much was asked for, sent and has arrived."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Covered by the (transfer, product) unique index.
    transfer = models.ForeignKey(
        Transfer, on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="transfer_lines")
    requested = quantity_field()
    shipped = quantity_field(null=True, blank=True, help_text="Set when the transfer ships.")
    received = quantity_field(default=0)
    # The source's average cost of one unit when the line shipped: the goods arrive at it.
    unit_cost = cost_field("unit cost")

    class Meta:
        ordering = ["transfer", "product__sku"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "product"], name="transfer_line_unique"),
            models.CheckConstraint(
                condition=models.Q(requested__gt=0), name="transfer_line_requested_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(shipped__isnull=True, received=0)
                | models.Q(shipped__gt=0, received__gte=0, received__lte=models.F("shipped")),
                name="transfer_line_received_within_shipped",
            ),
        ]

    def __str__(self) -> str:
        # Read with its product (the admin's inline does): named, not by id.
        return f"{self.product.sku} · {self.product.name}"

    @property
    def outstanding(self) -> Decimal:
        """Shipped and still to arrive: only while the transfer is under way, since closing
        it turns what did not arrive into the shortfall."""
        if self.transfer.status not in UNDER_WAY:
            return Decimal(0)
        return (self.shipped or Decimal(0)) - self.received

    @property
    def shortfall(self) -> Decimal:
        """Shipped and never received: what the receiver closed the transfer without (lost or
        damaged, as the transfer's ``shortfall_reason`` says)."""
        if not self.transfer.shortfall_reason:
            return Decimal(0)
        return (self.shipped or Decimal(0)) - self.received


class TransferStep(models.TextChoices):
    REQUEST = "REQUEST", _("requested")
    SEND = "SEND", _("sent")
    APPROVE = "APPROVE", _("approved")
    SHIP = "SHIP", _("shipped")
    RECEIVE = "RECEIVE", _("received")
    CLOSE = "CLOSE", _("closed short")
    CANCEL = "CANCEL", _("cancelled")
    REJECT = "REJECT", _("rejected")


class TransferEvent(models.Model):
    """One step of a transfer's history: who moved it from which state to which, and why."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transfer_events"
    )
    step = models.CharField(max_length=10, choices=TransferStep.choices)
    from_status = models.CharField(max_length=20, choices=TransferStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=TransferStatus.choices)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The dashboard's activity feed reads the latest steps first.
            models.Index(fields=["-created_at"], name="transfer_event_time_idx"),
        ]

    def __str__(self) -> str:
        transfer = self.transfer
        return (
            f"{transfer.reference} · {self.get_step_display()} · "
            f"{transfer.from_branch.code} → {transfer.to_branch.code}"
        )


class TransferMovement(models.Model):
    """Which ledger entry a line's shipment or receipt wrote (the ledger itself knows nothing
    of transfers)."""

    line = models.ForeignKey(TransferLine, on_delete=models.PROTECT, related_name="movements")
    movement = models.OneToOneField(
        StockMovement, on_delete=models.PROTECT, related_name="transfer_movement"
    )

    def __str__(self) -> str:
        return f"{self.line_id} → {self.movement_id}"


# Purchase orders: the other way stock comes to a branch, from a supplier rather than from
# another branch. Kept beside transfers because replenishment chooses between the two.


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "DRAFT", _("draft")
    SENT = "SENT", _("sent")
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED", _("partially received")
    RECEIVED = "RECEIVED", _("received")
    CANCELLED = "CANCELLED", _("cancelled")


class OrderMailStatus(models.TextChoices):
    NONE = "", _("not sent")
    PENDING = "PENDING", _("to be sent")
    SENDING = "SENDING", _("being sent")
    SENT = "SENT", _("sent")
    FAILED = "FAILED", _("could not be sent")


class PurchaseOrder(models.Model):
    """What a branch orders from one supplier, from the draft to the last receipt."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=20, unique=True, default=new_order_reference)
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="purchase_orders", db_index=False
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="purchase_orders", db_index=False
    )
    status = models.CharField(
        max_length=20, choices=PurchaseOrderStatus.choices, default=PurchaseOrderStatus.DRAFT
    )
    # Copied from the supplier when the order is drafted: prices stay in the order's currency.
    currency = models.CharField(max_length=3)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchase_orders"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expected_on = models.DateField(
        null=True, blank=True, help_text="Sent date plus the supplier's lead time."
    )
    received_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Why the order was closed with less than ordered (under-delivery accepted).
    short_reason = models.CharField(max_length=500, blank=True)
    # The e-mail to the supplier: an outbox, claimed by one worker at a time for a lease.
    mail_status = models.CharField(
        max_length=8, choices=OrderMailStatus.choices, default=OrderMailStatus.NONE, blank=True
    )
    mail_claimed_at = models.DateTimeField(null=True, blank=True)
    mail_sent_at = models.DateTimeField(null=True, blank=True)
    mail_problem = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["-created_at"], name="order_time_idx"),
            models.Index(fields=["branch", "-created_at"], name="order_branch_time_idx"),
            models.Index(fields=["supplier", "-created_at"], name="order_supplier_time_idx"),
            models.Index(fields=["status", "-created_at"], name="order_status_time_idx"),
            models.Index(
                fields=["mail_status"],
                condition=models.Q(mail_status__in=["PENDING", "SENDING"]),
                name="order_mail_owed_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=PurchaseOrderStatus.values),
                name="order_status_known",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class PurchaseOrderLine(models.Model):
    """One product of an order: how much was ordered, at what price, and how much came."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Covered by the (order, product) unique index.
    order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    supplier_sku = models.CharField("supplier's SKU", max_length=64, blank=True)
    quantity_ordered = quantity_field("ordered")
    quantity_received = quantity_field("received", default=Decimal("0"))
    unit_price = cost_field("unit price")

    class Meta:
        ordering = ["order", "product__sku"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="order_line_unique"),
            models.CheckConstraint(
                condition=models.Q(quantity_ordered__gt=0), name="order_line_ordered_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity_received__gte=0),
                name="order_line_received_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__isnull=True) | models.Q(unit_price__gte=0),
                name="order_line_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} · {self.product.name}"

    @property
    def outstanding(self) -> Decimal:
        """Ordered and not yet received (never below zero: an over-delivery owes nothing)."""
        if self.order.status not in (
            PurchaseOrderStatus.SENT,
            PurchaseOrderStatus.PARTIALLY_RECEIVED,
        ):
            return Decimal(0)
        return max(self.quantity_ordered - self.quantity_received, Decimal(0))


class PurchaseOrderStep(models.TextChoices):
    DRAFT = "DRAFT", _("drafted")
    EDIT = "EDIT", _("edited")
    SEND = "SEND", _("sent")
    RECEIVE = "RECEIVE", _("received")
    CLOSE = "CLOSE", _("closed short")
    CANCEL = "CANCEL", _("cancelled")


class PurchaseOrderEvent(models.Model):
    """One step of an order's history: who moved it from which state to which, and why."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchase_order_events"
    )
    step = models.CharField(max_length=10, choices=PurchaseOrderStep.choices)
    from_status = models.CharField(max_length=20, choices=PurchaseOrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=PurchaseOrderStatus.choices)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["-created_at"], name="order_event_time_idx")]

    def __str__(self) -> str:
        return f"{self.order.reference} · {self.get_step_display()}"


class PurchaseReceipt(models.Model):
    """One receipt against an order line: the ledger entry it wrote, at what unit cost, and
    why more (or less) came than was outstanding when that was out of the ordinary."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    line = models.ForeignKey(PurchaseOrderLine, on_delete=models.PROTECT, related_name="receipts")
    movement = models.OneToOneField(
        StockMovement, on_delete=models.PROTECT, related_name="purchase_receipt"
    )
    quantity = quantity_field()
    unit_cost = cost_field("unit cost")
    # Over-delivery beyond the tolerance needs a reason; it is kept here.
    reason = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchase_receipts"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="purchase_receipt_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} → {self.movement_id}"
