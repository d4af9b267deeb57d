from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from branches.models import Branch
from inventory_project.kernel.filters import strict_boolean


class BranchFilter(filters.FilterSet):
    is_active = strict_boolean(help_text="Only active (true) or inactive (false) ones.")
    q = filters.CharFilter(
        method="search", label="Search", help_text="Code or name contains this, whatever its case."
    )

    class Meta:
        model = Branch
        fields = ["is_active", "q"]

    def search(self, queryset: QuerySet[Branch], name: str, value: str) -> QuerySet[Branch]:
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))


class DirectoryFilter(filters.FilterSet):
    """The directory's search; it lists active branches only, so there is no is_active."""

    q = filters.CharFilter(
        method="search", label="Search", help_text="Code or name contains this, whatever its case."
    )

    class Meta:
        model = Branch
        fields = ["q"]

    def search(self, queryset: QuerySet[Branch], name: str, value: str) -> QuerySet[Branch]:
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))
