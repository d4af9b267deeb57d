"""The people pages, mounted under /people/."""

urlpatterns: list = []
