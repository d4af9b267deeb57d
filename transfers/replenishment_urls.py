"""Replenishment: the page under /replenishment/, the API under /api/v1/."""

from django.urls import path

from transfers import replenishment_api as api
from transfers import replenishment_views as views

# Pages, mounted under /replenishment/.
urlpatterns = [
    path("", views.replenishment_page, name="replenishment"),
    path("done/", views.replenishment_done, name="replenishment-done"),
]
# Mounted under /api/v1/.
api_urlpatterns = [
    path("replenishment/", api.PlanApi.as_view(), name="api-replenishment"),
    path("replenishment/apply/", api.ApplyApi.as_view(), name="api-replenishment-apply"),
]
