from rest_framework import serializers

from branches.models import Branch
from inventory_project.kernel.api import StrictSerializer

_code = Branch._meta.get_field("code")

# Input ------------------------------------------------------------------------------------


class BranchCreateSerializer(StrictSerializer):
    """A new branch."""

    code = serializers.CharField(max_length=_code.max_length, help_text=_code.help_text)
    name = serializers.CharField(max_length=Branch._meta.get_field("name").max_length)
    address = serializers.CharField(required=False, default="", allow_blank=True)
    timezone = serializers.CharField(
        max_length=Branch._meta.get_field("timezone").max_length,
        required=False,
        default="UTC",
        help_text="An IANA time zone, e.g. Europe/Berlin.",
    )


class BranchUpdateSerializer(StrictSerializer):
    """Changes to a branch; fields left out stay as they are."""

    code = serializers.CharField(
        max_length=_code.max_length, required=False, help_text=_code.help_text
    )
    name = serializers.CharField(
        max_length=Branch._meta.get_field("name").max_length, required=False
    )
    address = serializers.CharField(required=False, allow_blank=True)
    timezone = serializers.CharField(
        max_length=Branch._meta.get_field("timezone").max_length,
        required=False,
        help_text="An IANA time zone, e.g. Europe/Berlin.",
    )
    is_active = serializers.BooleanField(
        required=False, help_text="Inactive branches keep their stock but take no movements."
    )


# Output -----------------------------------------------------------------------------------


class BranchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Branch
        fields = ["id", "code", "name", "address", "timezone", "is_active", "created_at"]
        read_only_fields = fields


class BranchDirectorySerializer(serializers.ModelSerializer):
    """What anyone signed in may know of an active branch: enough to choose it as a transfer
    partner, nothing of its stock or people."""

    class Meta:
        model = Branch
        fields = ["id", "code", "name", "address"]
        read_only_fields = fields
