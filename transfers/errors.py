from inventory_project.kernel.errors import Conflict, NotFound


class UnknownTransfer(NotFound):
    code = "unknown_transfer"


class IllegalTransition(Conflict):
    """The transfer is not in a state that allows this step."""

    code = "illegal_transition"


class UnknownPurchaseOrder(NotFound):
    code = "unknown_purchase_order"


class IllegalOrderStep(Conflict):
    """The purchase order is not in a state that allows this step."""

    code = "illegal_transition"
