"""Reads of branches shared by the API and the pages."""

from django.db.models import Q, QuerySet

from branches.models import Branch

# What anyone signed in may know of any branch: enough to name it and choose it as a
# transfer partner, nothing of its stock, people or history.
DIRECTORY_FIELDS = ("id", "code", "name", "address")


def directory(*, q: str = "") -> QuerySet[Branch]:
    """The active branches by code, only their public fields; ``q`` narrows to a code or
    name containing it, whatever its case."""
    branches = Branch.objects.filter(is_active=True).only(*DIRECTORY_FIELDS).order_by("code")
    q = q.strip()
    if q:
        branches = branches.filter(Q(code__icontains=q) | Q(name__icontains=q))
    return branches
