from django.urls import path

from catalog import api

# Mounted under /api/v1/. Ids are matched as plain strings so that a malformed one gets the
# API's JSON 404, not the HTML one.
api_urlpatterns = [
    path("categories/", api.CategoryListApi.as_view(), name="api-categories"),
    path("categories/<str:category_id>/", api.CategoryDetailApi.as_view(), name="api-category"),
    path("products/", api.ProductListApi.as_view(), name="api-products"),
    # Before products/<id>/, which would take "lookup" for an id.
    path("products/lookup/", api.ProductLookupApi.as_view(), name="api-product-lookup"),
    path("products/<str:product_id>/", api.ProductDetailApi.as_view(), name="api-product"),
]
