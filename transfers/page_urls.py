"""The transfer pages, mounted under /transfers/."""

from django.urls import path

from transfers import views

urlpatterns = [
    path("", views.transfer_list, name="transfers"),
    path("new/", views.transfer_new, name="transfer-new"),
    path("new/products/", views.transfer_product_options, name="transfer-products"),
    path("new/stock/", views.transfer_line_stock, name="transfer-line-stock"),
    path("<uuid:transfer_id>/", views.transfer_detail, name="transfer"),
    path("<uuid:transfer_id>/note/", views.transfer_note, name="transfer-note"),
    path("<uuid:transfer_id>/steps/<slug:step>/", views.transfer_step, name="transfer-step"),
]
