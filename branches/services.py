"""Every change to branches goes through these functions.

Only ADMINs open, change and remove branches: each function takes the ``actor`` and
refuses anyone else (NotPermitted). Being an ADMIN needs nothing of accounts, so this
module, below accounts, asks ``inventory_project.kernel.access``.
"""

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from branches.errors import UnknownBranch
from branches.models import Branch, BranchKind
from inventory_project.kernel.access import require_admin
from inventory_project.kernel.errors import Conflict, InvalidInput
from inventory_project.kernel.validation import full_clean, save_validated

EDITABLE_FIELDS = frozenset({"code", "name", "kind", "city", "address", "timezone", "is_active"})


def create_branch(
    *,
    actor: Any,
    code: str,
    name: str,
    kind: str = BranchKind.SHOP,
    city: str = "",
    address: str = "",
    timezone: str = "UTC",
) -> Branch:
    """Open a branch. Its code and its name (whatever their case) must be unused."""
    require_admin(actor, _("Only an administrator can open branches."))
    branch = Branch(code=code, name=name, kind=kind, city=city, address=address, timezone=timezone)
    with transaction.atomic():
        save_validated(branch, _validate)
    return branch


def update_branch(*, actor: Any, branch_id: uuid.UUID | str, **changes: Any) -> Branch:
    """Change any of ``code``, ``name``, ``kind``, ``city``, ``address``, ``timezone`` and
    ``is_active``.

    Deactivating a branch keeps its stock and history; it takes no more movements.
    """
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"update_branch() cannot change {', '.join(sorted(unknown))}")
    with transaction.atomic():
        branch = _lock(branch_id)
        require_admin(
            actor, _("Only an administrator can change branch %(code)s.") % {"code": branch.code}
        )
        for name, value in changes.items():
            setattr(branch, name, value)
        save_validated(branch, _validate)
    return branch


def delete_branch(*, actor: Any, branch_id: uuid.UUID | str) -> None:
    """Remove a branch that never held stock and has no staff.

    Raises Conflict otherwise: its history must stay, so deactivate it instead.
    """
    with transaction.atomic():
        # The row lock also holds off new stock levels and memberships (their foreign keys
        # need a share lock on it) until this transaction ends.
        branch = _lock(branch_id)
        require_admin(
            actor, _("Only an administrator can remove branch %(code)s.") % {"code": branch.code}
        )
        refusal = Conflict(
            f"Branch {branch.code} has stock, stock history or staff; deactivate it instead."
        )
        # Reverse relations from stock and accounts, named without importing those apps.
        if any(
            related.exists()
            for related in (branch.stock_levels, branch.stock_movements, branch.memberships)
        ):
            raise refusal
        try:
            branch.delete()
        except (ProtectedError, RestrictedError):
            # Anything else that keeps a branch from going.
            raise refusal from None


def _lock(branch_id: uuid.UUID | str) -> Branch:
    try:
        return Branch.objects.select_for_update().get(pk=branch_id)
    except (Branch.DoesNotExist, ValidationError, ValueError):
        raise UnknownBranch(f"No branch with id {branch_id}.") from None


def _validate(branch: Branch) -> None:
    """The model's own validators, then the unique code and case-insensitive name."""
    full_clean(branch)
    others = Branch.objects.exclude(pk=branch.pk)
    if others.filter(code__iexact=branch.code).exists():
        raise InvalidInput(f"A branch with the code {branch.code} already exists.", field="code")
    if others.filter(name__iexact=branch.name).exists():
        raise InvalidInput(f"A branch named {branch.name} already exists.", field="name")
