import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from guardian.models import UserObjectPermissionBase
from knox.models import AbstractAuthToken

from branches.models import Branch


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str) -> "User":
        # E-mail addresses are matched case-insensitively at login.
        return self.get(email__iexact=username)

    def create_user(
        self, email: str, password: str | None = None, **extra_fields: object
    ) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(
        self, email: str, password: str | None = None, **extra_fields: object
    ) -> "User":
        extra_fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra_fields)


class AlertMail(models.TextChoices):
    """Which low-stock e-mail someone gets about the branches they manage."""

    EACH = "EACH", _("each alert as it is raised, and the daily digest")
    DIGEST = "DIGEST", _("the daily digest only")
    NONE = "NONE", _("none")


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address.

    ADMINs (``is_superuser``) act on every branch and alone reach the back office; everyone
    else acts through memberships.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("e-mail address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(
        "active", default=True, help_text="Inactive users cannot sign in or use the API."
    )
    is_superuser = models.BooleanField(
        "administrator",
        default=False,
        help_text="Administrators act on every branch and manage the back office.",
    )
    date_joined = models.DateTimeField(default=timezone.now)
    alert_mail = models.CharField(
        "low-stock e-mail",
        max_length=8,
        choices=AlertMail.choices,
        default=AlertMail.EACH,
        help_text="What a manager is sent about low stock at the branches they manage.",
    )
    alert_mail_all_branches = models.BooleanField(
        "low-stock e-mail for every branch",
        default=False,
        help_text="Administrators only: also get the low-stock e-mail of every branch.",
    )
    language = models.CharField(
        "language",
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text="The language of the pages and e-mails; blank: as the browser asks.",
    )
    sessions_revoked_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Browser sessions started before this stop working (set on deactivation).",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(alert_mail__in=AlertMail.values), name="user_alert_mail_known"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def is_staff(self) -> bool:
        # Django's admin asks for is_staff; only ADMINs reach it.
        return self.is_superuser

    # A session stays valid while this hash does. Django derives it from the password alone;
    # mixing in sessions_revoked_at means a deactivation ends every session for good, so a
    # reactivated account does not revive a browser left signed in before.
    def get_session_auth_hash(self) -> str:
        return self._session_hash(secret=None)

    def get_session_auth_fallback_hash(self):
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=secret)

    def _session_hash(self, *, secret: str | None) -> str:
        revoked = self.sessions_revoked_at.isoformat() if self.sessions_revoked_at else ""
        return salted_hmac(
            "accounts.User.session", self.password + revoked, secret=secret, algorithm="sha256"
        ).hexdigest()

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Role(models.TextChoices):
    MANAGER = "MANAGER", _("manager")
    STAFF = "STAFF", _("staff")


class Membership(models.Model):
    """A user's role at one branch."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "branch"], name="membership_unique_per_branch"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} at {self.branch.code}"


class BranchPermission(UserObjectPermissionBase):
    """A django-guardian object permission on a branch, with a real foreign key.

    Rows are derived from memberships by ``accounts.services.sync_branch_permissions``;
    nothing else writes them.
    """

    content_object = models.ForeignKey(Branch, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "branch permission"


class ApiToken(AbstractAuthToken):
    """A per-device API token. Only a SHA-512 digest of the token is stored."""

    # A stable id to list and revoke a device by, instead of exposing the digest.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    digest = models.CharField(max_length=128, unique=True, editable=False)
    device = models.CharField(max_length=100, help_text="Which device or integration holds it.")
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.device} ({self.user})"
