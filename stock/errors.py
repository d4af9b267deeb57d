from branches.errors import UnknownBranch
from inventory_project.errors import Conflict, InvalidInput, NotFound

__all__ = [
    "InactiveBranch",
    "InactiveProduct",
    "InsufficientStock",
    "InvalidQuantity",
    "UnknownBranch",
    "UnknownProduct",
]


class InsufficientStock(Conflict):
    code = "insufficient_stock"


class InvalidQuantity(InvalidInput):
    code = "invalid_quantity"


class UnknownProduct(NotFound):
    code = "unknown_product"


class InactiveBranch(Conflict):
    code = "inactive_branch"


class InactiveProduct(Conflict):
    code = "inactive_product"
