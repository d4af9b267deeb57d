from inventory_project.kernel.errors import NotFound


class UnknownProduct(NotFound):
    code = "unknown_product"


class UnknownCategory(NotFound):
    code = "unknown_category"
