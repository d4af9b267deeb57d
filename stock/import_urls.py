"""The spreadsheet imports, mounted under /import/."""

urlpatterns: list = []
