from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from inventory_project import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index"), name="home"),
    path("admin/", admin.site.urls),
    path("healthz", views.health, name="health"),
]
