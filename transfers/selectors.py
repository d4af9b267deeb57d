from django.db.models import QuerySet

from accounts import permissions
from accounts.permissions import AnyUser
from transfers.models import Transfer


def visible_transfers(user: AnyUser) -> QuerySet[Transfer]:
    """Transfers into or out of a branch ``user`` may see."""
    return permissions.scope(Transfer.objects.all(), user, via=("from_branch", "to_branch"))
