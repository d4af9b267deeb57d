import os

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from inventory_project.kernel.errors import DomainError


class Command(BaseCommand):
    help = (
        "Create the first administrator from DJANGO_SUPERUSER_EMAIL and "
        "DJANGO_SUPERUSER_PASSWORD (and optionally DJANGO_SUPERUSER_FULL_NAME) when none "
        "exists yet. Does nothing once there is an administrator, so it can run on every start."
    )

    def handle(self, *args, **options) -> None:
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "").strip()
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
        if not email or not password:
            self.stdout.write(
                "DJANGO_SUPERUSER_EMAIL and DJANGO_SUPERUSER_PASSWORD are not both set; "
                "no administrator created (use `manage.py createsuperuser`)."
            )
            return
        try:
            user = services.create_first_admin(
                email=email,
                password=password,
                full_name=os.environ.get("DJANGO_SUPERUSER_FULL_NAME", ""),
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        if user is None:
            self.stdout.write("An administrator exists already; nothing to do.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Created the administrator {user.email}."))
