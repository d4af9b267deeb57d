"""The transfer pages, mounted under /transfers/."""

from django.urls import path

from transfers import views

urlpatterns = [
    path("", views.transfer_list, name="transfers"),
    path("<uuid:transfer_id>/", views.transfer_detail, name="transfer"),
    path("<uuid:transfer_id>/steps/<slug:step>/", views.transfer_step, name="transfer-step"),
]
