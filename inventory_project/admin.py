from django.contrib import admin
from django.contrib.admin import AdminSite
from django.http import HttpRequest

from accounts import permissions


class InventoryAdminSite(AdminSite):
    """The back office: ADMINs only, whatever else a user may be."""

    site_header = "Inventory back office"
    site_title = "Inventory back office"
    index_title = "Back office"

    def has_permission(self, request: HttpRequest) -> bool:
        return permissions.is_admin(request.user)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records the domain writes (the ledger, transfers, alerts): the back office reads
    them, and changes them only through the services, in actions."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
