from django.contrib import admin
from django.db.models import Count

from catalog import services
from catalog.models import Category, Product, Supplier, SupplierProduct
from inventory_project.kernel.admin import ServiceAdmin, ServiceInline


@admin.register(Category)
class CategoryAdmin(ServiceAdmin):
    services = {
        "create": services.create_category,
        "update": services.update_category,
        "delete": services.delete_category,
    }
    list_display = ["name", "product_count"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @admin.display(description="products", ordering="product_count")
    def product_count(self, obj: Category) -> int:
        return obj.product_count


@admin.register(Product)
class ProductAdmin(ServiceAdmin):
    """Products change as through the API: a new default threshold raises and resolves the
    alerts it should, the unit of a product with stock history stays, and every open page
    hears of the change."""

    services = {
        "create": services.create_product,
        "update": services.update_product,
        "delete": services.delete_product,
    }
    list_display = [
        "sku",
        "name",
        "category",
        "unit",
        "barcode",
        "sale_price",
        "low_stock_threshold",
        "is_active",
    ]
    list_filter = ["is_active", "unit", "category"]
    list_select_related = ["category"]
    search_fields = ["sku", "name", "barcode"]
    autocomplete_fields = ["category"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["sku", "barcode", "name", "category", "unit", "is_active"]}),
        ("Prices", {"fields": ["cost_price", "sale_price"]}),
        ("Stock", {"fields": ["low_stock_threshold"]}),
        ("History", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]


LINE_FIELDS = ["supplier_sku", "pack_size", "price", "minimum_order_quantity", "is_preferred"]


class SupplierProductInline(ServiceInline):
    """What the supplier sells, set and removed through the supplier services, which keep
    one preferred supplier per product and whole packs of countable products."""

    model = SupplierProduct
    extra = 0
    autocomplete_fields = ["product"]
    fields = ["product", *LINE_FIELDS]
    services = {
        "create": services.set_supplier_product,
        "update": services.set_supplier_product,
        "delete": services.remove_supplier_product,
    }

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class Formset(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                # A line stays with its product; another product is another line.
                if index is not None and index < self.initial_form_count():
                    form.fields["product"].disabled = True

        return Formset

    def _set(self, request, parent, form, product_id):
        return self.services["create"](
            actor=request.user,
            supplier_id=parent.pk,
            product_id=product_id,
            **{name: form.cleaned_data[name] for name in LINE_FIELDS},
        )

    def create(self, request, parent, form):
        return self._set(request, parent, form, form.cleaned_data["product"].pk)

    def update(self, request, parent, form):
        self._set(request, parent, form, form.instance.product_id)

    def delete(self, request, parent, obj):
        self.services["delete"](
            actor=request.user, supplier_id=parent.pk, product_id=obj.product_id
        )


@admin.register(Supplier)
class SupplierAdmin(ServiceAdmin):
    """Suppliers are added and changed through the supplier services, and deactivated
    rather than deleted: orders keep pointing at them."""

    services = {"create": services.create_supplier, "update": services.update_supplier}
    list_display = ["code", "name", "email", "lead_time_days", "currency", "is_active"]
    list_filter = ["is_active", "currency"]
    search_fields = ["code", "name", "email", "contact_name"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [SupplierProductInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "is_active"]}),
        ("Contact", {"fields": ["contact_name", "email", "phone"]}),
        ("Ordering", {"fields": ["lead_time_days", "currency"]}),
        ("History", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
