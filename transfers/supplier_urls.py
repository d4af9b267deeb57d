from django.urls import path  # noqa: F401

# Pages, mounted under /suppliers/.
urlpatterns: list = []
# Mounted under /api/v1/.
api_urlpatterns: list = []
