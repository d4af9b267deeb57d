from inventory_project.kernel.errors import Conflict, NotFound


class UnknownAlert(NotFound):
    code = "unknown_alert"


class AlertResolved(Conflict):
    """The stock is back: a resolved alert is history, not something to acknowledge."""

    code = "alert_resolved"


class AlertAcknowledged(Conflict):
    code = "alert_acknowledged"
