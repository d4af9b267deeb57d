"""Pages of stock mounted outside /stock/: the catalog pages (under /catalog/), the scan
page (under /scan/) and the audit ledger (under /audit/)."""

from django.urls import path

from stock.views import audit, products, scan

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

audit_urlpatterns = [
    path("", audit.audit, name="audit"),
    path("export.csv", audit.audit_export, name="audit-export"),
]
