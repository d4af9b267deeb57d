from django.core.management.base import BaseCommand

from accounts import services


class Command(BaseCommand):
    help = (
        "Re-derive every user's branch permissions from their memberships. Safe to run at any "
        "time; run it after deploying a change to what a role may do."
    )

    def handle(self, *args, **options) -> None:
        result = services.sync_all_branch_permissions()
        self.stdout.write(
            f"Branch permissions in step with memberships: "
            f"{result.granted} granted, {result.revoked} revoked."
        )
