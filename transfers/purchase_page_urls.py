"""The purchase order pages, mounted under /purchase-orders/."""

from django.urls import path

from transfers import purchase_views as views

urlpatterns = [
    path("", views.order_list, name="purchase-orders"),
    path("new/", views.order_new, name="purchase-order-new"),
    path("new/products/", views.order_product_options, name="purchase-order-products"),
    path("<uuid:order_id>/", views.order_detail, name="purchase-order"),
    path("<uuid:order_id>/edit/", views.order_edit, name="purchase-order-edit"),
    path("<uuid:order_id>/order.csv", views.order_csv, name="purchase-order-csv"),
    path("<uuid:order_id>/steps/<slug:step>/", views.order_step, name="purchase-order-step"),
]
