"""The spreadsheet imports, mounted under /import/."""

from django.urls import path

from stock.views import imports

urlpatterns = [
    path("", imports.choose, name="imports"),
    path("<uuid:import_id>/", imports.preview, name="import"),
    path("<uuid:import_id>/apply/", imports.apply, name="import-apply"),
]
