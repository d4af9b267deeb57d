from inventory_project.kernel.errors import NotFound


class UnknownProduct(NotFound):
    code = "unknown_product"


class UnknownCategory(NotFound):
    code = "unknown_category"


class UnknownSupplier(NotFound):
    code = "unknown_supplier"


class UnknownSupplierProduct(NotFound):
    code = "unknown_supplier_product"
