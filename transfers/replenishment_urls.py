from django.urls import path  # noqa: F401

# Pages, mounted under /replenishment/.
urlpatterns: list = []
# Mounted under /api/v1/.
api_urlpatterns: list = []
