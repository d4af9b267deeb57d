import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from branches.models import Branch
from catalog.models import (
    PRICE_DECIMAL_PLACES,
    PRICE_MAX_DIGITS,
    QUANTITY_DECIMAL_PLACES,
    QUANTITY_MAX_DIGITS,
    Product,
    Supplier,
)


def quantity_field(verbose_name: str | None = None, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=QUANTITY_MAX_DIGITS,
        decimal_places=QUANTITY_DECIMAL_PLACES,
        **kwargs,
    )


def cost_field(verbose_name: str | None = None, **kwargs) -> models.DecimalField:
    """A cost of one unit, as suppliers price it (four decimals)."""
    return models.DecimalField(
        verbose_name,
        max_digits=PRICE_MAX_DIGITS,
        decimal_places=PRICE_DECIMAL_PLACES,
        null=True,
        blank=True,
        **kwargs,
    )


class StockLevelQuerySet(models.QuerySet):
    def with_effective_threshold(self) -> "StockLevelQuerySet":
        """Annotate ``effective_threshold``: the level's own, else the product's default."""
        return self.annotate(
            effective_threshold=Coalesce("low_stock_threshold", "product__low_stock_threshold")
        )

    def below_threshold(self) -> "StockLevelQuerySet":
        return self.with_effective_threshold().filter(on_hand__lt=models.F("effective_threshold"))

    def at_or_above_threshold(self) -> "StockLevelQuerySet":
        return self.with_effective_threshold().filter(on_hand__gte=models.F("effective_threshold"))


class StockLevel(models.Model):
    """How much of one product one branch holds.

    Created on the first movement or threshold setting, changed only by the stock services,
    and always equal to the sum of its movements.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The (branch, product) unique index serves lookups by branch; no separate index needed.
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="stock_levels", db_index=False
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = quantity_field("on hand", default=Decimal("0"))
    low_stock_threshold = quantity_field(
        null=True,
        blank=True,
        help_text="Overrides the product's default threshold at this branch; empty to inherit.",
    )
    version = models.PositiveBigIntegerField(
        default=0, help_text="Bumped by every movement; lets clients spot missed changes."
    )
    # Moving average cost of one unit held here, kept by the movement that changes it; empty
    # until the first receipt with a cost (the product's cost price stands in until then).
    average_cost = cost_field("average unit cost")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StockLevelQuerySet.as_manager()

    class Meta:
        # No index on on_hand or updated_at: every movement changes both, and an index on
        # either would make each movement's UPDATE a non-HOT one (new entries in every
        # index, dead tuples that lists and counts wade through until a vacuum). Sorting a
        # branch by them is a top-N sort over that branch's rows instead. On PostgreSQL
        # the table keeps free room in each page (fillfactor) so the new row version fits
        # beside the old one: see migration 0005.
        constraints = [
            models.UniqueConstraint(fields=["branch", "product"], name="stock_level_unique"),
            models.CheckConstraint(
                condition=models.Q(on_hand__gte=0), name="stock_level_on_hand_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(low_stock_threshold__gte=0),
                name="stock_level_threshold_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} at {self.branch.code}: {self.on_hand}"

    @property
    def threshold(self) -> Decimal:
        """The threshold in force: this level's own, else the product's default."""
        if self.low_stock_threshold is not None:
            return self.low_stock_threshold
        return self.product.low_stock_threshold

    @property
    def is_low(self) -> bool:
        return self.on_hand < self.threshold


class MovementKind(models.TextChoices):
    RECEIPT = "RECEIPT", _("receipt")
    ISSUE = "ISSUE", _("issue")
    ADJUSTMENT = "ADJUSTMENT", _("adjustment")
    COUNT = "COUNT", _("count")
    TRANSFER_OUT = "TRANSFER_OUT", _("transfer out")
    TRANSFER_IN = "TRANSFER_IN", _("transfer in")


class AdjustmentReason(models.TextChoices):
    DAMAGED = "DAMAGED", _("damaged")
    EXPIRED = "EXPIRED", _("expired")
    LOST = "LOST", _("lost or stolen")
    FOUND = "FOUND", _("found")
    RETURNED = "RETURNED", _("customer return")
    CORRECTION = "CORRECTION", _("correction of an earlier entry")
    OTHER = "OTHER", _("other (see note)")


class ImmutableLedgerError(Exception):
    """Raised when code tries to change or remove a movement: the ledger is append-only."""


class StockMovementQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableLedgerError("Stock movements cannot be updated.")

    def delete(self):
        raise ImmutableLedgerError("Stock movements cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise ImmutableLedgerError("Stock movements cannot be updated.")


class StockMovement(models.Model):
    """One entry of the append-only stock ledger.

    ``version`` is the level's version after this movement, so (stock_level, version) orders
    a level's history exactly and ``on_hand_after`` can be checked against it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Covered by the (stock_level, version) unique index.
    stock_level = models.ForeignKey(
        StockLevel, on_delete=models.PROTECT, related_name="movements", db_index=False
    )
    # Copied from the level so the ledger filters by branch or product without a join.
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="stock_movements", db_index=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="stock_movements", db_index=False
    )
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    delta = quantity_field(help_text="Signed change of on-hand quantity.")
    on_hand_after = quantity_field("on hand after")
    version = models.PositiveBigIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="stock_movements",
        db_index=False,
    )
    reason = models.CharField(max_length=16, choices=AdjustmentReason.choices, blank=True)
    note = models.CharField(max_length=500, blank=True)
    # What one unit of this movement cost (a receipt against an order, a transfer's arrival
    # at the cost it left with), and the level's average cost after it: the value of the
    # level as of any moment is on_hand_after * average_cost_after of its last movement.
    unit_cost = cost_field("unit cost")
    average_cost_after = cost_field("average unit cost after")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StockMovementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-version"]
        # The ledger is read newest first, filtered by any of these.
        indexes = [
            models.Index(fields=["-created_at"], name="movement_time_idx"),
            models.Index(fields=["branch", "-created_at"], name="movement_branch_time_idx"),
            models.Index(
                fields=["branch", "kind", "-created_at"], name="movement_branch_kind_time_idx"
            ),
            models.Index(fields=["product", "-created_at"], name="movement_product_time_idx"),
            models.Index(fields=["actor", "-created_at"], name="movement_actor_time_idx"),
            # A level's last movement before a moment: the stock value report as of a day.
            models.Index(
                fields=["stock_level", "-created_at", "-version"], name="movement_level_time_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["stock_level", "version"], name="movement_unique_level_version"
            ),
            models.CheckConstraint(
                condition=models.Q(on_hand_after__gte=0), name="movement_on_hand_after_not_neg"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.delta:+} of {self.product_id}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ImmutableLedgerError("Stock movements cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableLedgerError("Stock movements cannot be deleted.")


class ReorderRule(models.Model):
    """When a level is to be replenished and how far: below ``minimum``, bring it up to
    ``maximum``, buying from ``supplier`` what no other branch can spare.

    A level without a rule uses its low-stock threshold as minimum, twice that as maximum and
    the product's preferred supplier.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    level = models.OneToOneField(StockLevel, on_delete=models.CASCADE, related_name="reorder_rule")
    minimum = quantity_field()
    maximum = quantity_field("maximum (order up to)")
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        related_name="reorder_rules",
        null=True,
        blank=True,
        help_text="Empty: the product's preferred supplier.",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minimum__gte=0), name="reorder_rule_minimum_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(maximum__gte=models.F("minimum")),
                name="reorder_rule_maximum_not_below_minimum",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.level_id}: {self.minimum} to {self.maximum}"


class ImportKind(models.TextChoices):
    PRODUCTS = "PRODUCTS", _("products and categories")
    OPENING_STOCK = "OPENING_STOCK", _("opening stock")
    STOCK_COUNT = "STOCK_COUNT", _("stock count")


class ImportStatus(models.TextChoices):
    PREVIEWED = "PREVIEWED", _("previewed")
    # Handed to a worker, which applies it (stock.tasks.apply_import).
    APPLYING = "APPLYING", _("applying")
    APPLIED = "APPLIED", _("applied")


class StockImport(models.Model):
    """One uploaded spreadsheet: what it was, the rows it was read into and checked, and
    whether it was applied. Apply reads the rows kept here, never rows sent again by the
    browser; the file's SHA-256 (with its kind and branch) keeps it from being applied twice."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    # Stock files are for one branch; the catalog is everyone's.
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="imports", null=True, blank=True
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stock_imports"
    )
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED
    )
    # Counts of rows read, new, changed, unchanged and in error; a sample of the changes.
    summary = models.JSONField(default=dict, blank=True)
    # The first errors found (row, column, message); ``error_count`` counts them all.
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    # The checked rows, kept only when none is in error (only then can they be applied).
    rows = models.JSONField(default=list, blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="applied_stock_imports",
        null=True,
        blank=True,
    )
    # Who last asked for it to be applied, and when: a worker applies it meanwhile
    # (APPLYING), for at most the lease of stock.services.IMPORT_APPLY_LEASE.
    apply_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="requested_stock_imports",
        null=True,
        blank=True,
    )
    apply_requested_at = models.DateTimeField(null=True, blank=True)
    # Why the last attempt to apply it wrote nothing (a rule broken since the preview, the
    # queue unreachable...), in the words of the one who asked; blank once applied.
    apply_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["sha256", "kind", "status"], name="import_file_idx"),
            models.Index(fields=["-created_at"], name="import_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name} ({self.get_status_display()})"
