from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Low-stock alerts"

    def ready(self) -> None:
        from alerts import checks, events, receivers  # noqa: F401  (registers them)
