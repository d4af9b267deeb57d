from django.urls import path

from branches import api

# Mounted under /api/v1/. Ids are matched as plain strings so that a malformed one gets the
# API's JSON 404, not the HTML one.
api_urlpatterns = [
    path("branches/", api.BranchListApi.as_view(), name="api-branches"),
    path("branches/directory/", api.BranchDirectoryApi.as_view(), name="api-branch-directory"),
    path("branches/<str:branch_id>/", api.BranchDetailApi.as_view(), name="api-branch"),
]
