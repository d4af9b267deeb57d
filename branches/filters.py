from django.db.models import QuerySet
from django_filters import rest_framework as filters

from branches import selectors
from branches.models import Branch, BranchKind
from inventory_project.kernel.filters import strict_boolean


class BranchFilter(filters.FilterSet):
    is_active = strict_boolean(help_text="Only active (true) or inactive (false) ones.")
    q = filters.CharFilter(
        method="search",
        label="Search",
        help_text="Code, name or city contains this, whatever its case.",
    )

    class Meta:
        model = Branch
        fields = ["is_active", "q"]

    def search(self, queryset: QuerySet[Branch], name: str, value: str) -> QuerySet[Branch]:
        return selectors.search(queryset, value)


class DirectoryFilter(filters.FilterSet):
    """The directory's search; it lists active branches only, so there is no is_active."""

    q = filters.CharFilter(
        method="search",
        label="Search",
        help_text="Code, name or city contains this, whatever its case.",
    )
    kind = filters.ChoiceFilter(choices=BranchKind.choices, help_text="Only shops or warehouses.")

    class Meta:
        model = Branch
        fields = ["q", "kind"]

    def search(self, queryset: QuerySet[Branch], name: str, value: str) -> QuerySet[Branch]:
        return selectors.search(queryset, value)
