from django.apps import AppConfig


class KernelConfig(AppConfig):
    """What every app shares and that imports no app: domain errors, API conventions,
    idempotency, transient-conflict retries, validation, and the live-event publisher with
    its websocket consumer and event catalogue."""

    name = "inventory_project.kernel"
    label = "kernel"
    verbose_name = "Kernel"
