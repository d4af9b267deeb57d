from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from branches.models import Branch, BranchKind
from inventory_project.kernel.api import StrictSerializer

_code = Branch._meta.get_field("code")
_city = Branch._meta.get_field("city")


class BranchKindField(serializers.ChoiceField):
    """A branch's kind: SHOP or WAREHOUSE."""

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=BranchKind.choices, **kwargs)


class BranchKindSchema(OpenApiSerializerFieldExtension):
    """The kinds are one named schema, BranchKindEnum: the schema generator would otherwise
    name them by a hash, as transfers and movements have a ``kind`` of their own."""

    target_class = BranchKindField

    def get_name(self) -> str:
        return "BranchKindEnum"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        # The named schema is the choice set alone; readOnly, default and the like are said
        # where each serializer uses it.
        return {key: schema[key] for key in ("type", "enum", "description") if key in schema}


# Input ------------------------------------------------------------------------------------


class BranchCreateSerializer(StrictSerializer):
    """A new branch."""

    code = serializers.CharField(max_length=_code.max_length, help_text=_code.help_text)
    name = serializers.CharField(max_length=Branch._meta.get_field("name").max_length)
    kind = BranchKindField(required=False, default=BranchKind.SHOP)
    city = serializers.CharField(
        max_length=_city.max_length, required=False, default="", allow_blank=True
    )
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
    kind = BranchKindField(required=False)
    city = serializers.CharField(max_length=_city.max_length, required=False, allow_blank=True)
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
    kind = BranchKindField(read_only=True)

    class Meta:
        model = Branch
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "city",
            "address",
            "timezone",
            "is_active",
            "created_at",
        ]
        read_only_fields = fields


class BranchDirectorySerializer(serializers.ModelSerializer):
    """What anyone signed in may know of an active branch: enough to choose it as a transfer
    partner, nothing of its stock or people."""

    kind = BranchKindField(read_only=True)

    class Meta:
        model = Branch
        fields = ["id", "code", "name", "kind", "city", "address"]
        read_only_fields = fields
