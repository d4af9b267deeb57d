from django.urls import path

from transfers import api

# Mounted under /api/v1/. Ids are matched as plain strings so that a malformed one gets the
# API's JSON 404, not the HTML one.
api_urlpatterns = [
    path("transfers/", api.TransferListApi.as_view(), name="api-transfers"),
    path("transfers/request/", api.TransferRequestApi.as_view(), name="api-transfer-request"),
    path("transfers/send/", api.TransferSendApi.as_view(), name="api-transfer-send"),
    path("transfers/<str:transfer_id>/", api.TransferDetailApi.as_view(), name="api-transfer"),
    path(
        "transfers/<str:transfer_id>/approve/",
        api.TransferApproveApi.as_view(),
        name="api-transfer-approve",
    ),
    path(
        "transfers/<str:transfer_id>/ship/", api.TransferShipApi.as_view(), name="api-transfer-ship"
    ),
    path(
        "transfers/<str:transfer_id>/receive/",
        api.TransferReceiveApi.as_view(),
        name="api-transfer-receive",
    ),
    path(
        "transfers/<str:transfer_id>/close/",
        api.TransferCloseApi.as_view(),
        name="api-transfer-close",
    ),
    path(
        "transfers/<str:transfer_id>/cancel/",
        api.TransferCancelApi.as_view(),
        name="api-transfer-cancel",
    ),
    path(
        "transfers/<str:transfer_id>/reject/",
        api.TransferRejectApi.as_view(),
        name="api-transfer-reject",
    ),
]
