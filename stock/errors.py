from branches.errors import UnknownBranch
from catalog.errors import UnknownProduct
from inventory_project.kernel.errors import Conflict, InvalidInput

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


class InactiveBranch(Conflict):
    code = "inactive_branch"


class InactiveProduct(Conflict):
    code = "inactive_product"
