"""Every change to categories and products goes through these functions.

Only ADMINs change the catalog: each function takes the ``actor`` and refuses anyone else
(NotPermitted). Being an ADMIN needs nothing of accounts, so this module, below accounts,
asks ``inventory_project.kernel.access``.
"""

import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.errors import UnknownCategory, UnknownProduct
from catalog.events import PRODUCT_CHANGED, ProductChanged
from catalog.models import Category, Product, Unit
from catalog.signals import product_changed
from inventory_project.kernel import realtime
from inventory_project.kernel.access import require_admin
from inventory_project.kernel.errors import Conflict, InvalidInput
from inventory_project.kernel.validation import full_clean, save_validated

CATEGORY_FIELDS = frozenset({"name", "description"})
PRODUCT_FIELDS = frozenset(
    {
        "sku",
        "barcode",
        "name",
        "category_id",
        "unit",
        "cost_price",
        "sale_price",
        "low_stock_threshold",
        "is_active",
    }
)

# Categories -------------------------------------------------------------------------------


def create_category(*, actor: Any, name: str, description: str = "") -> Category:
    """Add a category; its name must be unused whatever its case."""
    require_admin(actor, _("Only an administrator can add categories."))
    category = Category(name=name, description=description)
    with transaction.atomic():
        save_validated(category, _validate_category)
    return category


def update_category(*, actor: Any, category_id: uuid.UUID | str, **changes: Any) -> Category:
    """Change a category's ``name`` or ``description``."""
    require_admin(actor, _("Only an administrator can change categories."))
    _check_editable("update_category", changes, CATEGORY_FIELDS)
    with transaction.atomic():
        category = _lock_category(category_id)
        for name, value in changes.items():
            setattr(category, name, value)
        save_validated(category, _validate_category)
    return category


def delete_category(*, actor: Any, category_id: uuid.UUID | str) -> None:
    """Remove a category that holds no products (active or not); Conflict otherwise."""
    require_admin(actor, _("Only an administrator can remove categories."))
    with transaction.atomic():
        # The row lock holds off products being filed under it until this transaction ends.
        category = _lock_category(category_id)
        count = category.products.count()
        if count:
            raise Conflict(
                ngettext(
                    "Category %(name)s still has %(count)d product; move it to another "
                    "category first.",
                    "Category %(name)s still has %(count)d products; move them to another "
                    "category first.",
                    count,
                )
                % {"name": category.name, "count": count}
            )
        category.delete()


def _lock_category(category_id: uuid.UUID | str) -> Category:
    try:
        return Category.objects.select_for_update().get(pk=category_id)
    except (Category.DoesNotExist, ValidationError, ValueError):
        raise UnknownCategory(f"No category with id {category_id}.") from None


def _validate_category(category: Category) -> None:
    full_clean(category)
    if Category.objects.exclude(pk=category.pk).filter(name__iexact=category.name).exists():
        raise InvalidInput(
            _("A category named %(name)s already exists.") % {"name": category.name}, field="name"
        )


# Products ---------------------------------------------------------------------------------


def create_product(
    *,
    actor: Any,
    sku: str,
    name: str,
    barcode: str | None = None,
    category_id: uuid.UUID | str | None = None,
    unit: str = Unit.PIECE,
    cost_price: Decimal = Decimal("0"),
    sale_price: Decimal = Decimal("0"),
    low_stock_threshold: Decimal = Decimal("0"),
    is_active: bool = True,
) -> Product:
    """Add a product. Its SKU (whatever its case) and its barcode must be unused; a blank
    barcode means none."""
    require_admin(actor, _("Only an administrator can add products."))
    product = Product(
        sku=sku,
        name=name,
        barcode=_clean_barcode(barcode),
        category_id=category_id,
        unit=unit,
        cost_price=cost_price,
        sale_price=sale_price,
        low_stock_threshold=low_stock_threshold,
        is_active=is_active,
    )
    with transaction.atomic():
        save_validated(product, _validate_product)
    return product


def update_product(*, actor: Any, product_id: uuid.UUID | str, **changes: Any) -> Product:
    """Change any of ``sku``, ``barcode``, ``name``, ``category_id``, ``unit``, the prices,
    ``low_stock_threshold`` and ``is_active``.

    The unit of a product with stock history stays: changing it would change what every
    recorded quantity means (Conflict). Deactivate the product and add a new one instead.
    """
    require_admin(actor, _("Only an administrator can change products."))
    _check_editable("update_product", changes, PRODUCT_FIELDS)
    if "barcode" in changes:
        changes["barcode"] = _clean_barcode(changes["barcode"])
    with transaction.atomic():
        # FOR NO KEY UPDATE: stock writes keep inserting movements that reference the
        # product meanwhile, and the levels it re-evaluates are locked after it.
        product = _lock_product(product_id, no_key=True)
        if "unit" in changes and changes["unit"] != product.unit and _has_stock(product):
            raise Conflict(
                _(
                    "Product %(sku)s has stock history; its unit cannot change. "
                    "Deactivate it and add a new product instead."
                )
                % {"sku": product.sku},
                field="unit",
            )
        previous = {
            name: getattr(product, name)
            for name, value in changes.items()
            if getattr(product, name) != value
        }
        for name, value in changes.items():
            setattr(product, name, value)
        save_validated(product, _validate_product)
        if previous:
            realtime.publish(PRODUCT_CHANGED, ProductChanged.of(product, list(previous)))
            # Alerts follow the new default without the catalog knowing of them.
            product_changed.send(sender=Product, product=product, previous=previous)
    return product


def delete_product(*, actor: Any, product_id: uuid.UUID | str) -> None:
    """Remove a product that no branch ever held; Conflict otherwise: its history must
    stay, so deactivate it instead."""
    require_admin(actor, _("Only an administrator can remove products."))
    with transaction.atomic():
        # The row lock holds off new stock levels of it until this transaction ends.
        product = _lock_product(product_id)
        refusal = Conflict(f"Product {product.sku} has stock history; deactivate it instead.")
        if _has_stock(product):
            raise refusal
        try:
            product.delete()
        except (ProtectedError, RestrictedError):
            # Anything else that keeps a product from going.
            raise refusal from None


def _has_stock(product: Product) -> bool:
    # Reverse relations from stock, named without importing it.
    return product.stock_levels.exists() or product.stock_movements.exists()


def _lock_product(product_id: uuid.UUID | str, *, no_key: bool = False) -> Product:
    try:
        return Product.objects.select_for_update(no_key=no_key).get(pk=product_id)
    except (Product.DoesNotExist, ValidationError, ValueError):
        raise UnknownProduct(f"No product with id {product_id}.") from None


def _clean_barcode(barcode: str | None) -> str | None:
    # Blank means no barcode: NULL, so that any number of products may have none.
    return (barcode or "").strip() or None


def _validate_product(product: Product) -> None:
    if product.category_id is not None and not _category_exists(product.category_id):
        raise InvalidInput(f"No category with id {product.category_id}.", field="category")
    full_clean(product, exclude=["category"])  # looked up above, with a clearer message
    others = Product.objects.exclude(pk=product.pk)
    if others.filter(sku__iexact=product.sku).exists():
        raise InvalidInput(
            _("A product with the SKU %(sku)s already exists.") % {"sku": product.sku}, field="sku"
        )
    if product.barcode is not None and others.filter(barcode=product.barcode).exists():
        raise InvalidInput(
            _("A product with the barcode %(barcode)s already exists.")
            % {"barcode": product.barcode},
            field="barcode",
        )


def _category_exists(category_id: uuid.UUID | str) -> bool:
    try:
        return Category.objects.filter(pk=category_id).exists()
    except (ValidationError, ValueError):
        return False


# Shared -----------------------------------------------------------------------------------


def _check_editable(function: str, changes: dict[str, Any], editable: frozenset[str]) -> None:
    unknown = set(changes) - editable
    if unknown:
        raise TypeError(f"{function}() cannot change {', '.join(sorted(unknown))}")
