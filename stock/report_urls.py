"""The reports: pages mounted under /reports/, their API under /api/v1/reports/."""

urlpatterns: list = []
api_urlpatterns: list = []
