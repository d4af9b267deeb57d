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
