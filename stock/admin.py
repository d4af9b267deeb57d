from django import forms
from django.contrib import admin

from branches.models import Branch
from catalog.models import Product
from inventory_project.kernel.admin import ReadOnlyAdmin, ServiceAdmin
from stock import services
from stock.errors import InvalidQuantity
from stock.models import ReorderRule, StockImport, StockLevel, StockMovement
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


RULE_TERMS = ["minimum", "maximum", "supplier"]


class ReorderRuleChangeForm(forms.ModelForm):
    class Meta:
        model = ReorderRule
        fields = RULE_TERMS


class ReorderRuleAddForm(ReorderRuleChangeForm):
    """A new rule names its level by branch code and SKU, typed: a select of every product
    would not scale, and the level itself may not exist yet (the service creates it)."""

    branch = forms.ModelChoiceField(
        queryset=Branch.objects.all(),
        to_field_name="code",
        widget=forms.TextInput,
        label="Branch code",
        error_messages={"invalid_choice": "No branch with this code."},
    )
    product = forms.ModelChoiceField(
        queryset=Product.objects.all(),
        to_field_name="sku",
        widget=forms.TextInput,
        label="Product SKU",
        error_messages={"invalid_choice": "No product with this SKU."},
    )

    class Meta(ReorderRuleChangeForm.Meta):
        fields = ["branch", "product", *RULE_TERMS]


@admin.register(ReorderRule)
class ReorderRuleAdmin(ServiceAdmin):
    """Reorder rules, set and cleared through the stock services, which check the terms
    (maximum not below minimum, whole units, a supplier selling the product) and create the
    level when it has none yet. Adding a rule for a level that has one replaces it, as the
    service does."""

    services = {
        "create": services.set_reorder_rule,
        "update": services.set_reorder_rule,
        "delete": services.clear_reorder_rule,
    }
    list_display = ["branch", "product", "minimum_shown", "maximum_shown", "supplier"]
    list_filter = ["level__branch"]
    list_select_related = ["level__branch", "level__product", "supplier"]
    ordering = ["level__branch__code", "level__product__sku"]
    search_fields = ["level__product__sku", "level__branch__code"]
    readonly_fields = ["branch", "product", "updated_by", "updated_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["branch", "product", *RULE_TERMS]
        return ["branch", "product", *RULE_TERMS, "updated_by", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = ReorderRuleAddForm if obj is None else ReorderRuleChangeForm
        return super().get_form(request, obj, **kwargs)

    @admin.display(description="branch", ordering="level__branch__code")
    def branch(self, rule: ReorderRule) -> Branch:
        return rule.level.branch

    @admin.display(description="product", ordering="level__product__sku")
    def product(self, rule: ReorderRule) -> Product:
        return rule.level.product

    @admin.display(description="minimum", ordering="minimum")
    def minimum_shown(self, rule: ReorderRule) -> str:
        return format_quantity(rule.minimum)

    @admin.display(description="maximum (order up to)", ordering="maximum")
    def maximum_shown(self, rule: ReorderRule) -> str:
        return format_quantity(rule.maximum)

    def _set(self, request, form, operation, *, branch_id, product_id) -> ReorderRule:
        supplier = form.cleaned_data["supplier"]
        return self.services[operation](
            actor=request.user,
            branch_id=branch_id,
            product_id=product_id,
            minimum=form.cleaned_data["minimum"],
            maximum=form.cleaned_data["maximum"],
            supplier_id=None if supplier is None else supplier.pk,
        )

    def create(self, request, form):
        return self._set(
            request,
            form,
            "create",
            branch_id=form.cleaned_data["branch"].pk,
            product_id=form.cleaned_data["product"].pk,
        )

    def update(self, request, obj, form):
        if not form.changed_data:
            return None
        # The rule is replaced whole: the service checks the terms together.
        return self._set(
            request, form, "update", branch_id=obj.level.branch_id, product_id=obj.level.product_id
        )

    def delete(self, request, obj):
        self.services["delete"](
            actor=request.user, branch_id=obj.level.branch_id, product_id=obj.level.product_id
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
