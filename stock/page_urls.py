"""Pages of stock mounted outside /stock/: the catalog pages (under /catalog/)."""

from django.urls import path

from stock.views import products

catalog_urlpatterns = [
    path("products/", products.product_list, name="products"),
    path("products/new/", products.product_new, name="product-new"),
    path("products/<uuid:product_id>/", products.product_detail, name="product"),
    path("products/<uuid:product_id>/edit/", products.product_edit, name="product-edit"),
    path("categories/", products.category_list, name="categories"),
    path("categories/<uuid:category_id>/edit/", products.category_edit, name="category-edit"),
]
