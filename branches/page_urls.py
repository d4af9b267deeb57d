"""The branch pages, mounted under /branches/."""

from django.urls import path

from branches import views

urlpatterns = [
    path("", views.directory, name="branch-directory"),
]
