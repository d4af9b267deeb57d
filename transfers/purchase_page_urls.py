from django.urls import path  # noqa: F401

# Pages, mounted under /purchase-orders/.
urlpatterns: list = []
