from django.urls import path

from transfers import purchase_api

# Mounted under /api/v1/. Ids are matched as plain strings so that a malformed one gets the
# API's JSON 404, not the HTML one.
api_urlpatterns = [
    path(
        "purchase-orders/", purchase_api.PurchaseOrderListApi.as_view(), name="api-purchase-orders"
    ),
    path(
        "purchase-orders/<str:order_id>/",
        purchase_api.PurchaseOrderDetailApi.as_view(),
        name="api-purchase-order",
    ),
    path(
        "purchase-orders/<str:order_id>/send/",
        purchase_api.PurchaseOrderSendApi.as_view(),
        name="api-purchase-order-send",
    ),
    path(
        "purchase-orders/<str:order_id>/receive/",
        purchase_api.PurchaseOrderReceiveApi.as_view(),
        name="api-purchase-order-receive",
    ),
    path(
        "purchase-orders/<str:order_id>/close/",
        purchase_api.PurchaseOrderCloseApi.as_view(),
        name="api-purchase-order-close",
    ),
    path(
        "purchase-orders/<str:order_id>/cancel/",
        purchase_api.PurchaseOrderCancelApi.as_view(),
        name="api-purchase-order-cancel",
    ),
]
