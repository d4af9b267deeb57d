"""The reports: pages mounted under /reports/, their API under /api/v1/reports/."""

from django.urls import path

from stock import report_api
from stock.views import reports

urlpatterns = [
    path("", reports.index, name="reports"),
    path("stock-value/", reports.stock_value, name="report-stock-value"),
    path("stock-value/export.csv", reports.stock_value_csv, name="report-stock-value-csv"),
    path("movements/", reports.movements, name="report-movements"),
    path("movements/export.csv", reports.movements_csv, name="report-movements-csv"),
    path("movers/", reports.movers, name="report-movers"),
    path("movers/export.csv", reports.movers_csv, name="report-movers-csv"),
    path("reorder/", reports.reorder, name="report-reorder"),
    path("reorder/export.csv", reports.reorder_csv, name="report-reorder-csv"),
]

api_urlpatterns = [
    path("stock-value/", report_api.StockValueApi.as_view(), name="api-report-stock-value"),
    path("movements/", report_api.MovementsApi.as_view(), name="api-report-movements"),
    path("movers/", report_api.MoversApi.as_view(), name="api-report-movers"),
    path("reorder/", report_api.ReorderApi.as_view(), name="api-report-reorder"),
]
