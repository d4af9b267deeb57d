from django import forms
from django.contrib import admin

from inventory_project.kernel.admin import ReadOnlyAdmin, ServiceAdmin
from stock import services
from stock.errors import InvalidQuantity
from stock.models import StockImport, StockLevel, StockMovement
from stock.quantities import check_unit, format_quantity, parse_quantity


class LowStockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "low"

    def lookups(self, request, model_admin):
        return [("yes", "below threshold"), ("no", "at or above threshold")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.below_threshold()
        if self.value() == "no":
            return queryset.at_or_above_threshold()
        return queryset


class StockLevelForm(forms.ModelForm):
    class Meta:
        model = StockLevel
        fields = ["low_stock_threshold"]

    def clean_low_stock_threshold(self):
        value = self.cleaned_data["low_stock_threshold"]
        if value is not None:
            try:
                check_unit(
                    parse_quantity(value, name="Threshold", sign=None),
                    self.instance.product,
                    name="Threshold",
                )
            except InvalidQuantity as error:
                raise forms.ValidationError(error.message) from None
        return value


@admin.register(StockLevel)
class StockLevelAdmin(ServiceAdmin):
    """On hand changes only through movements; only the branch's threshold is edited here,
    through the stock service, which raises or resolves the level's alert."""

    services = {"update": services.set_low_stock_threshold}
    form = StockLevelForm
    list_display = ["product", "branch", "quantity", "unit", "threshold", "status", "updated_at"]
    list_filter = [LowStockFilter, "branch", "product__category"]
    list_select_related = ["branch", "product"]
    ordering = ["branch__code", "product__name"]
    search_fields = ["product__sku", "product__name", "product__barcode", "branch__code"]
    readonly_fields = ["branch", "product", "on_hand", "version", "created_at", "updated_at"]
    fields = [*readonly_fields[:3], "low_stock_threshold", *readonly_fields[3:]]

    @admin.display(description="on hand", ordering="on_hand")
    def quantity(self, level: StockLevel) -> str:
        return format_quantity(level.on_hand)

    @admin.display(description="unit", ordering="product__unit")
    def unit(self, level: StockLevel) -> str:
        return level.product.unit

    @admin.display(description="threshold")
    def threshold(self, level: StockLevel) -> str:
        return format_quantity(level.threshold)

    @admin.display(description="status")
    def status(self, level: StockLevel) -> str:
        return "LOW" if level.is_low else "ok"

    def update(self, request, obj, form):
        if "low_stock_threshold" not in form.changed_data:
            return None
        return self.services["update"](
            actor=request.user,
            branch_id=obj.branch_id,
            product_id=obj.product_id,
            threshold=form.cleaned_data["low_stock_threshold"],
        )


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    """The ledger: read-only, in the admin as everywhere."""

    list_display = [
        "created_at",
        "branch",
        "product",
        "kind",
        "change",
        "on_hand",
        "actor",
        "reason",
    ]
    list_filter = ["kind", "reason", "branch"]
    list_select_related = ["branch", "product", "actor"]
    search_fields = ["product__sku", "product__name", "note", "actor__email"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="change", ordering="delta")
    def change(self, movement: StockMovement) -> str:
        return f"{'+' if movement.delta > 0 else ''}{format_quantity(movement.delta)}"

    @admin.display(description="on hand after", ordering="on_hand_after")
    def on_hand(self, movement: StockMovement) -> str:
        return format_quantity(movement.on_hand_after)


@admin.register(StockImport)
class StockImportAdmin(ReadOnlyAdmin):
    """The history of imported files: read-only; files are imported on the Import page."""

    list_display = [
        "created_at",
        "kind",
        "branch",
        "file_name",
        "actor",
        "status",
        "error_count",
        "applied_at",
        "applied_by",
    ]
    list_filter = ["kind", "status", "branch"]
    list_select_related = ["branch", "actor", "applied_by"]
    search_fields = ["file_name", "sha256", "actor__email"]
    date_hierarchy = "created_at"
    # The kept rows can be 100,000 long: the page shows what they came to instead.
    exclude = ["rows"]
    readonly_fields = [
        "kind",
        "branch",
        "actor",
        "file_name",
        "sha256",
        "options",
        "status",
        "summary",
        "errors",
        "error_count",
        "result",
        "created_at",
        "apply_requested_at",
        "apply_requested_by",
        "apply_error",
        "applied_at",
        "applied_by",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("rows")
