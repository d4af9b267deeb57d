from django.contrib.admin.apps import AdminConfig


class InventoryAdminConfig(AdminConfig):
    default_site = "inventory_project.admin.InventoryAdminSite"
