"""Reads of branches shared by the API and the pages."""

from django.db.models import Q, QuerySet

from branches.models import Branch

# What anyone signed in may know of any branch: enough to name it and choose it as a
# transfer partner, nothing of its stock, people or history.
DIRECTORY_FIELDS = ("id", "code", "name", "kind", "city", "address")


def directory(*, q: str = "", kind: str = "") -> QuerySet[Branch]:
    """The active branches by code, only their public fields; ``q`` narrows to a code,
    name or city containing it, ``kind`` to shops or warehouses."""
    branches = Branch.objects.filter(is_active=True).only(*DIRECTORY_FIELDS).order_by("code")
    if kind:
        branches = branches.filter(kind=kind)
    return search(branches, q)


def search(branches: QuerySet[Branch], q: str) -> QuerySet[Branch]:
    """``branches`` whose code, name or city contains ``q``, whatever its case."""
    q = q.strip()
    if not q:
        return branches
    return branches.filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(city__icontains=q))
