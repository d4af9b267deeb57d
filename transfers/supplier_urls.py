from django.urls import path

from transfers import supplier_api, supplier_views

# Pages, mounted under /suppliers/.
urlpatterns = [
    path("", supplier_views.supplier_list, name="suppliers"),
    path("new/", supplier_views.supplier_new, name="supplier-new"),
    path("<uuid:supplier_id>/", supplier_views.supplier_detail, name="supplier"),
    path("<uuid:supplier_id>/edit/", supplier_views.supplier_edit, name="supplier-edit"),
    path(
        "<uuid:supplier_id>/products/",
        supplier_views.supplier_product_set,
        name="supplier-product-set",
    ),
    path(
        "<uuid:supplier_id>/products/<uuid:product_id>/remove/",
        supplier_views.supplier_product_remove,
        name="supplier-product-remove",
    ),
]

# Mounted under /api/v1/. Ids are matched as plain strings so that a malformed one gets the
# API's JSON 404, not the HTML one.
api_urlpatterns = [
    path("suppliers/", supplier_api.SupplierListApi.as_view(), name="api-suppliers"),
    path(
        "suppliers/<str:supplier_id>/",
        supplier_api.SupplierDetailApi.as_view(),
        name="api-supplier",
    ),
    path(
        "suppliers/<str:supplier_id>/products/",
        supplier_api.SupplierProductListApi.as_view(),
        name="api-supplier-products",
    ),
    path(
        "suppliers/<str:supplier_id>/products/<str:product_id>/",
        supplier_api.SupplierProductDetailApi.as_view(),
        name="api-supplier-product",
    ),
]
