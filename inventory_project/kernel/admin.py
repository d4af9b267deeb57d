"""What the back office's model admins share: every change to domain data goes through a
service, so an admin is either read-only or routes its writes to the owning service."""

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records the domain writes (the ledger, transfers, alerts): the back office reads
    them, and changes them only through the services, in actions."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
