from django.urls import path

from stock import api, views

# Pages, mounted under /stock/.
urlpatterns = [
    path("", views.stock_list, name="stock-list"),
    path("rows/<uuid:level_id>/", views.stock_row, name="stock-row"),
    path("levels/<uuid:level_id>/", views.stock_level, name="stock-level"),
    path("levels/<uuid:level_id>/threshold/", views.set_threshold, name="stock-level-threshold"),
    path(
        "levels/<uuid:level_id>/reorder-rule/",
        views.set_reorder_rule,
        name="stock-level-reorder-rule",
    ),
    path("levels/<uuid:level_id>/<slug:kind>/", views.move_stock, name="stock-level-move"),
]

# Mounted under /api/v1/. Ids are matched as plain strings so that a malformed one gets the
# API's JSON 404, not the HTML one.
api_urlpatterns = [
    path("stock-levels/", api.StockLevelListApi.as_view(), name="api-stock-levels"),
    path(
        "stock-levels/thresholds/",
        api.ThresholdBatchApi.as_view(),
        name="api-stock-level-thresholds",
    ),
    path("stock-levels/<str:level_id>/", api.StockLevelDetailApi.as_view(), name="api-stock-level"),
    path(
        "stock-levels/<str:level_id>/reorder-rule/",
        api.ReorderRuleApi.as_view(),
        name="api-stock-level-reorder-rule",
    ),
    path("movements/", api.MovementListApi.as_view(), name="api-movements"),
    path("movements/receive/", api.ReceiveApi.as_view(), name="api-stock-receive"),
    path("movements/issue/", api.IssueApi.as_view(), name="api-stock-issue"),
    path("movements/adjust/", api.AdjustApi.as_view(), name="api-stock-adjust"),
    path("movements/count/", api.CountApi.as_view(), name="api-stock-count"),
    path("movements/batch/", api.BatchApi.as_view(), name="api-stock-batch"),
    path("movements/<str:movement_id>/", api.MovementDetailApi.as_view(), name="api-movement"),
]
