"""The query parameters of the transfer list; each filters on an indexed column."""

import django_filters
from django import forms
from django.db import models
from django.db.models import Q, QuerySet

from inventory_project.kernel.filters import FilterSet, StableOrderingFilter
from transfers.models import Transfer, TransferStatus


class Direction(models.TextChoices):
    IN = "in", "into the branch"
    OUT = "out", "out of the branch"


class TransferFilterForm(forms.Form):
    def clean(self) -> dict:
        data = super().clean()
        if data.get("direction") and not data.get("branch") and "branch" not in self.errors:
            self.add_error("direction", "Name the branch the direction is relative to.")
        return data


class TransferFilter(FilterSet):
    branch = django_filters.UUIDFilter(
        method="filter_branch", label="Branch", help_text="Transfers into or out of this branch."
    )
    direction = django_filters.ChoiceFilter(
        choices=Direction.choices,
        method="filter_direction",
        label="Direction",
        help_text="With branch: in, only transfers into it; out, only transfers out of it.",
    )
    status = django_filters.ChoiceFilter(choices=TransferStatus.choices)
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text="Started from this moment on (ISO 8601, inclusive).",
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        help_text="Started before this moment (ISO 8601, exclusive).",
    )
    ordering = StableOrderingFilter(
        fields=(("created_at", "created"),),
        help_text="created (oldest first) or -created (newest first, the default).",
    )

    class Meta:
        model = Transfer
        fields = []
        form = TransferFilterForm

    def filter_branch(self, queryset: QuerySet, name: str, value) -> QuerySet:
        direction = self.form.cleaned_data.get("direction")
        if direction == Direction.IN:
            return queryset.filter(to_branch_id=value)
        if direction == Direction.OUT:
            return queryset.filter(from_branch_id=value)
        return queryset.filter(Q(from_branch_id=value) | Q(to_branch_id=value))

    def filter_direction(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Applied together with branch, by filter_branch.
        return queryset
