from django.urls import path

from alerts import api, views

# Pages, mounted under /alerts/.
urlpatterns = [
    path("", views.alert_list, name="alerts"),
    path("acknowledge/", views.acknowledge_selected, name="alerts-acknowledge"),
    path("<uuid:alert_id>/acknowledge/", views.acknowledge, name="alert-acknowledge"),
]

# Mounted under /api/v1/. Ids are matched as plain strings so that a malformed one gets the
# API's JSON 404, not the HTML one.
api_urlpatterns = [
    path("alerts/", api.AlertListApi.as_view(), name="api-alerts"),
    path("alerts/acknowledge/", api.AcknowledgeAlertsApi.as_view(), name="api-alerts-acknowledge"),
    path("alerts/<str:alert_id>/", api.AlertDetailApi.as_view(), name="api-alert"),
    path(
        "alerts/<str:alert_id>/acknowledge/",
        api.AcknowledgeAlertApi.as_view(),
        name="api-alert-acknowledge",
    ),
]
