from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from accounts.urls import api_urlpatterns as accounts_api
from alerts.urls import api_urlpatterns as alerts_api
from branches.urls import api_urlpatterns as branches_api
from catalog.urls import api_urlpatterns as catalog_api
from inventory_project import dashboard_page, metrics, views
from inventory_project.dashboard import DashboardApi
from inventory_project.kernel.schema import websocket_schema
from stock.page_urls import audit_urlpatterns as audit_pages
from stock.page_urls import catalog_urlpatterns as catalog_pages
from stock.page_urls import scan_urlpatterns as scan_pages
from stock.report_urls import api_urlpatterns as reports_api
from stock.urls import api_urlpatterns as stock_api
from transfers.purchase_api_urls import api_urlpatterns as purchase_orders_api
from transfers.replenishment_urls import api_urlpatterns as replenishment_api
from transfers.supplier_urls import api_urlpatterns as suppliers_api
from transfers.urls import api_urlpatterns as transfers_api

urlpatterns = [
    path("", dashboard_page.home, name="home"),
    path("", include("accounts.urls")),
    path("stock/", include("stock.urls")),
    path("alerts/", include("alerts.urls")),
    path("catalog/", include(catalog_pages)),
    path("scan/", include(scan_pages)),
    path("audit/", include(audit_pages)),
    path("branches/", include("branches.page_urls")),
    path("transfers/", include("transfers.page_urls")),
    path("purchase-orders/", include("transfers.purchase_page_urls")),
    path("replenishment/", include("transfers.replenishment_urls")),
    path("suppliers/", include("transfers.supplier_urls")),
    path("people/", include("accounts.people_urls")),
    path("reports/", include("stock.report_urls")),
    path("import/", include("stock.import_urls")),
    path("alerts/badge/", views.alert_badge, name="alert-badge"),
    path("admin/", admin.site.urls),
    path("api/v1/", views.ApiRoot.as_view(), name="api-root"),
    path("api/v1/", include(accounts_api)),
    path("api/v1/", include(branches_api)),
    path("api/v1/", include(catalog_api)),
    path("api/v1/", include(stock_api)),
    path("api/v1/", include(transfers_api)),
    path("api/v1/", include(purchase_orders_api)),
    path("api/v1/", include(replenishment_api)),
    path("api/v1/", include(suppliers_api)),
    path("api/v1/", include(alerts_api)),
    path("api/v1/reports/", include(reports_api)),
    path("api/v1/dashboard/", DashboardApi.as_view(), name="api-dashboard"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/schema/websocket/", websocket_schema, name="api-schema-websocket"),
    path(
        "api/schema/swagger-ui/",
        views.ApiDocs.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    path(
        "api/schema/redoc/",
        views.ApiReference.as_view(url_name="api-schema"),
        name="api-redoc",
    ),
    path("api/auth/", include("rest_framework.urls")),
    # Probes: /healthz is kept for the clients that used it, and is the readiness check.
    path("healthz", views.health, name="health"),
    path("health/ready", views.ready, name="health-ready"),
    path("health/live", views.live, name="health-live"),
    path("metrics", metrics.metrics_view, name="metrics"),
]

handler400 = views.bad_request
handler404 = views.not_found
handler500 = views.server_error
