from django.conf import settings
from rest_framework import serializers

from accounts.models import AlertMail, ApiToken, Membership, Role, User
from inventory_project.kernel.api import StrictSerializer

# Input ------------------------------------------------------------------------------------


class TokenLoginSerializer(StrictSerializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    device = serializers.CharField(
        max_length=ApiToken._meta.get_field("device").max_length,
        help_text="A name for this device or integration, shown when listing its tokens.",
    )


class UserCreateSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    full_name = serializers.CharField(max_length=150, required=False, default="")
    password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)
    is_admin = serializers.BooleanField(required=False, default=False)
    branch = serializers.UUIDField(required=False, default=None)
    role = serializers.ChoiceField(choices=Role.choices, required=False, default=None)


class UserUpdateSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254, required=False)
    full_name = serializers.CharField(max_length=150, required=False)
    is_admin = serializers.BooleanField(required=False)


class AlertMailSerializer(StrictSerializer):
    alert_mail = serializers.ChoiceField(
        choices=AlertMail.choices,
        required=False,
        help_text="EACH: every alert as it is raised, and the daily digest; DIGEST: the "
        "daily digest only; NONE: no low-stock mail.",
    )
    alert_mail_all_branches = serializers.BooleanField(
        source="all_branches",
        required=False,
        help_text="Administrators only: the low-stock mail of every branch, not just those "
        "they manage.",
    )


class MeUpdateSerializer(AlertMailSerializer):
    language = serializers.ChoiceField(
        choices=[("", "as the browser asks"), *settings.LANGUAGES],
        required=False,
        allow_blank=True,
        help_text="The language of one's pages, e-mails and API messages; empty: as the "
        "browser (Accept-Language) asks.",
    )


class MembershipCreateSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    branch = serializers.UUIDField()
    role = serializers.ChoiceField(choices=Role.choices)


class MembershipUpdateSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=Role.choices)


# Output -----------------------------------------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    branch_code = serializers.CharField(source="branch.code", read_only=True)
    user_email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "user_email", "branch", "branch_code", "role", "created_at"]
        read_only_fields = fields


class UserSerializer(serializers.ModelSerializer):
    is_admin = serializers.BooleanField(source="is_superuser", read_only=True)
    memberships = MembershipSerializer(many=True, read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "full_name",
            "is_admin",
            "is_active",
            "date_joined",
            "last_login",
            "memberships",
        ]
        read_only_fields = fields


class ApiTokenSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(
        help_text="True for the token this request was made with."
    )

    class Meta:
        model = ApiToken
        fields = ["id", "device", "created", "expiry", "last_used_at", "current"]
        read_only_fields = fields

    def get_current(self, token: ApiToken) -> bool:
        return token.pk == getattr(self.context["request"].auth, "pk", None)


class RevokedTokensSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(help_text="How many devices were signed out.")


class BranchAccessSerializer(serializers.Serializer):
    """One branch a user may see, their role there and what they may do."""

    id = serializers.UUIDField(source="branch.id")
    code = serializers.CharField(source="branch.code")
    name = serializers.CharField(source="branch.name")
    role = serializers.CharField(allow_null=True)
    actions = serializers.ListField(child=serializers.CharField())


class MeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    is_admin = serializers.BooleanField()
    alert_mail = serializers.ChoiceField(choices=AlertMail.choices)
    alert_mail_all_branches = serializers.BooleanField()
    language = serializers.ChoiceField(
        choices=[("", "as the browser asks"), *settings.LANGUAGES], allow_blank=True
    )
    branches = BranchAccessSerializer(many=True)


class SignedInDeviceSerializer(ApiTokenSerializer):
    """The answer to a device sign-in: its token, shown only this once, and who signed in.

    Serializes an ApiToken carrying ``key`` (the token itself) and ``me`` (see MeSerializer).
    """

    token = serializers.CharField(
        source="key",
        read_only=True,
        help_text="Send as `Authorization: Token <token>`. Shown only this once; "
        "the server keeps just a digest of it.",
    )
    user = MeSerializer(source="me", read_only=True)

    class Meta(ApiTokenSerializer.Meta):
        fields = ["token", *ApiTokenSerializer.Meta.fields, "user"]
        read_only_fields = fields

    def get_current(self, token: ApiToken) -> bool:
        # The sign-in request carries no token yet; the one it creates is the device's own.
        return True


class RealtimeTicketSerializer(serializers.Serializer):
    ticket = serializers.CharField(
        help_text="Open `/ws/inventory/?ticket=<ticket>` with it, once, before it expires."
    )
    expires_in = serializers.IntegerField(help_text="Seconds it stays valid.")
    url = serializers.CharField(help_text="The websocket path, ticket included.")
