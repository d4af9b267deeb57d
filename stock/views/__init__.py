"""Stock pages, one module per page: the item page (a product at a branch) and its forms."""

from stock.views.item import move_stock, set_reorder_rule, set_threshold, stock_level
from stock.views.lists import stock_list, stock_row

__all__ = [
    "move_stock",
    "set_reorder_rule",
    "set_threshold",
    "stock_level",
    "stock_list",
    "stock_row",
]
