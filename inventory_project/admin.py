from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts import permissions


class InventoryAdminSite(AdminSite):
    """The back office: ADMINs only, whatever else a user may be."""

    site_header = _("Inventory back office")
    site_title = _("Inventory back office")
    index_title = _("Back office")

    def has_permission(self, request: HttpRequest) -> bool:
        return permissions.is_admin(request.user)
