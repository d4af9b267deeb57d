"""Stock pages, one module per page: the item page (a product at a branch) and its forms."""

from stock.views.item import set_threshold, stock_level

__all__ = ["set_threshold", "stock_level"]
