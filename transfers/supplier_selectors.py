"""Who may read suppliers, and the reads the supplier pages and API share.

Suppliers belong to the catalog, which may not ask who holds which right at a branch: the
rule "ADMINs, and whoever may order stock somewhere" is kept here, beside purchasing.
"""

import uuid

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.permissions import Action, AnyUser
from catalog.errors import UnknownSupplier
from catalog.models import Supplier, SupplierProduct
from inventory_project.kernel.errors import NotPermitted


def may_read_suppliers(user: AnyUser) -> bool:
    """ADMINs, and anyone who may order stock at one branch or another (managers)."""
    return permissions.is_admin(user) or Action.ORDER_STOCK in permissions.actions_anywhere(user)


def require_supplier_reader(user: AnyUser) -> None:
    if not may_read_suppliers(user):
        raise NotPermitted(
            _("Only administrators and those who order stock for a branch see suppliers.")
        )


def supplier_list(*, q: str = "", is_active: bool | None = None) -> QuerySet[Supplier]:
    """Suppliers by name, with how many products each sells: one query per page."""
    suppliers = Supplier.objects.annotate(product_count=Count("products")).order_by("name", "pk")
    q = q.strip()
    if q:
        suppliers = suppliers.filter(
            Q(name__icontains=q)
            | Q(code__icontains=q)
            | Q(contact_name__icontains=q)
            | Q(email__icontains=q)
        )
    if is_active is not None:
        suppliers = suppliers.filter(is_active=is_active)
    return suppliers


def get_supplier(*, supplier_id: uuid.UUID | str) -> Supplier:
    """Raises UnknownSupplier when there is none (or the id is malformed)."""
    try:
        return supplier_list().get(pk=supplier_id)
    except (Supplier.DoesNotExist, ValidationError, ValueError, TypeError):
        raise UnknownSupplier(_("No supplier with id %(id)s.") % {"id": supplier_id}) from None


def supplier_products(supplier: Supplier) -> QuerySet[SupplierProduct]:
    """What ``supplier`` sells, by the product's SKU, with the product in the same query."""
    return (
        SupplierProduct.objects.filter(supplier=supplier)
        .select_related("product")
        .order_by("product__sku", "pk")
    )
