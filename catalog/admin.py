from django.contrib import admin
from django.db.models import Count

from catalog import services
from catalog.models import Category, Product
from inventory_project.kernel.admin import ServiceAdmin


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
