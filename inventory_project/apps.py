from django.contrib.admin.apps import AdminConfig


class InventoryAdminConfig(AdminConfig):
    default_site = "inventory_project.admin.InventoryAdminSite"

    def ready(self) -> None:
        super().ready()
        # The composition root's receivers: the metrics' counters follow the apps' signals.
        from inventory_project import metrics

        metrics.connect()
