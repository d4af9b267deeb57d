from django.contrib import admin

from branches import services
from branches.models import Branch
from inventory_project.kernel.admin import ServiceAdmin


@admin.register(Branch)
class BranchAdmin(ServiceAdmin):
    services = {
        "create": services.create_branch,
        "update": services.update_branch,
        "delete": services.delete_branch,
    }
    list_display = ["code", "name", "kind", "city", "timezone", "is_active", "created_at"]
    list_filter = ["is_active", "kind", "timezone"]
    search_fields = ["code", "name", "city", "address"]
    ordering = ["code"]

    def get_exclude(self, request, obj=None):
        # A branch opens active; it is switched off on its change page.
        return ["is_active"] if obj is None else []
