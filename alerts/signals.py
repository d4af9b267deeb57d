import enum

from django.dispatch import Signal


class AlertChange(enum.StrEnum):
    RAISED = "raised"
    RESOLVED = "resolved"
    ACKNOWLEDGED = "acknowledged"


# Sent by alerts.services inside their transaction with ``alert`` (the LowStockAlert) and
# ``change`` (an AlertChange). Receivers that reach outside the process must defer that
# work with ``transaction.on_commit``.
alert_changed = Signal()
