from inventory_project.errors import Conflict, InvalidInput, NotFound


class InsufficientStock(Conflict):
    code = "insufficient_stock"


class InvalidQuantity(InvalidInput):
    code = "invalid_quantity"


class UnknownBranch(NotFound):
    code = "unknown_branch"


class UnknownProduct(NotFound):
    code = "unknown_product"


class InactiveBranch(Conflict):
    code = "inactive_branch"


class InactiveProduct(Conflict):
    code = "inactive_product"
