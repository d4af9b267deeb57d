from django.urls import path  # noqa: F401

# Mounted under /api/v1/.
api_urlpatterns: list = []
