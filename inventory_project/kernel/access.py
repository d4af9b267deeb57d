"""What the lowest layers may ask about who acts, without importing the permission module.

An ADMIN is an active superuser: that needs nothing but the user, so catalog and branches
services decide it here themselves. Which branches someone may view is the permission
module's answer (``accounts.permissions``), reached through ``settings.PERMISSION_POLICY``
so that the kernel, and the apps below accounts, import no app above them.
"""

import logging
from importlib import import_module
from types import ModuleType
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from inventory_project.kernel.errors import NotPermitted
from inventory_project.kernel.people import who

logger = logging.getLogger("accounts.permissions")


def is_admin(user: Any) -> bool:
    """ADMINs act everywhere, manage the catalog, branches and people, and use the admin."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_superuser)


def deny(user: Any, message: str) -> NotPermitted:
    """Log a refused attempt and return the error to raise."""
    logger.warning("Refused for %s: %s", who(user), message)
    error = NotPermitted(message)
    error.logged = True
    return error


def require_admin(user: Any, message: str) -> None:
    """Raise NotPermitted, saying ``message``, unless ``user`` is an ADMIN."""
    if not is_admin(user):
        raise deny(user, message)


def visible_branch_ids(user: Any) -> frozenset[str]:
    """The ids, as text, of the branches ``user`` may view."""
    return _policy().visible_branch_ids(user)


def scope[Q: QuerySet](queryset: Q, user: Any, *, via: str | tuple[str, ...] = "branch") -> Q:
    """``queryset`` narrowed to the rows of branches ``user`` may view (see
    ``accounts.permissions.scope``), in the same query."""
    return _policy().scope(queryset, user, via=via)


def _policy() -> ModuleType:
    return import_module(settings.PERMISSION_POLICY)
