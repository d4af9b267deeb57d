from django.contrib import admin
from django.urls import include, path

from accounts.urls import api_urlpatterns as accounts_api
from inventory_project import views

urlpatterns = [
    path("", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", views.ApiRoot.as_view(), name="api-root"),
    path("api/v1/", include(accounts_api)),
    path("api/auth/", include("rest_framework.urls")),
    path("healthz", views.health, name="health"),
]
