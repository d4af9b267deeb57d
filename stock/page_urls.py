"""Pages of stock mounted outside /stock/: the catalog pages (under /catalog/) and the scan
page (under /scan/)."""

from django.urls import path

from stock.views import products, scan

catalog_urlpatterns = [
    path("products/", products.product_list, name="products"),
    path("products/new/", products.product_new, name="product-new"),
    path("products/<uuid:product_id>/", products.product_detail, name="product"),
    path("products/<uuid:product_id>/edit/", products.product_edit, name="product-edit"),
    path("categories/", products.category_list, name="categories"),
    path("categories/<uuid:category_id>/edit/", products.category_edit, name="category-edit"),
]

scan_urlpatterns = [
    path("", scan.scan, name="scan"),
    path("record/", scan.scan_record, name="scan-record"),
    path("undo/", scan.scan_undo, name="scan-undo"),
]
