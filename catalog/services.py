"""Every change to categories and products goes through these functions.

Only ADMINs change the catalog: each function takes the ``actor`` and refuses anyone else
(NotPermitted). Being an ADMIN needs nothing of accounts, so this module, below accounts,
asks ``inventory_project.kernel.access``.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.deletion import ProtectedError, RestrictedError
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.errors import (
    UnknownCategory,
    UnknownProduct,
    UnknownSupplier,
    UnknownSupplierProduct,
)
from catalog.events import PRODUCT_CHANGED, ProductChanged
from catalog.models import (
    MAX_QUANTITY,
    PRICE_DECIMAL_PLACES,
    PRICE_MAX_DIGITS,
    QUANTITY_DECIMAL_PLACES,
    Category,
    Product,
    Supplier,
    SupplierProduct,
    Unit,
)
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


# Suppliers ---------------------------------------------------------------------------------


SUPPLIER_FIELDS = frozenset(
    {"code", "name", "contact_name", "email", "phone", "lead_time_days", "currency", "is_active"}
)
MAX_LEAD_TIME_DAYS = 365
MAX_PRICE = Decimal(10 ** (PRICE_MAX_DIGITS - PRICE_DECIMAL_PLACES)) - Decimal("0.0001")


def create_supplier(
    *,
    actor: Any,
    code: str,
    name: str,
    contact_name: str = "",
    email: str = "",
    phone: str = "",
    lead_time_days: int = 7,
    currency: str = "EUR",
    is_active: bool = True,
) -> Supplier:
    """Add a supplier. Its code and its name must be unused whatever their case; the code
    and the currency are kept in capitals."""
    require_admin(actor, _("Only an administrator can add suppliers."))
    supplier = Supplier()
    _set_supplier_fields(
        supplier,
        {
            "code": code,
            "name": name,
            "contact_name": contact_name,
            "email": email,
            "phone": phone,
            "lead_time_days": lead_time_days,
            "currency": currency,
            "is_active": is_active,
        },
    )
    with transaction.atomic():
        save_validated(supplier, _validate_supplier)
    return supplier


def update_supplier(*, actor: Any, supplier_id: uuid.UUID | str, **changes: Any) -> Supplier:
    """Change any of a supplier's fields; ``is_active`` False deactivates it (it then takes
    no new orders), True reactivates it."""
    require_admin(actor, _("Only an administrator can change suppliers."))
    _check_editable("update_supplier", changes, SUPPLIER_FIELDS)
    with transaction.atomic():
        supplier = _lock_supplier(supplier_id)
        _set_supplier_fields(supplier, changes)
        save_validated(supplier, _validate_supplier)
    return supplier


def set_supplier_product(
    *,
    actor: Any,
    supplier_id: uuid.UUID | str,
    product_id: uuid.UUID | str,
    supplier_sku: str = "",
    pack_size: Decimal | int | str = 1,
    price: Decimal | int | str = 0,
    minimum_order_quantity: Decimal | int | str = 0,
    is_preferred: bool = False,
) -> SupplierProduct:
    """Say how ``supplier`` sells ``product`` (adding the line, or changing the one there).

    A preferred line takes the flag from any other supplier of the product: each product has
    at most one preferred supplier, the one reorder rules use when they name none.
    """
    require_admin(actor, _("Only an administrator can change what suppliers sell."))
    pack = _amount(pack_size, field="pack_size", places=QUANTITY_DECIMAL_PLACES, positive=True)
    moq = _amount(minimum_order_quantity, field="minimum_order_quantity")
    unit_price = _amount(price, field="price", places=PRICE_DECIMAL_PLACES, largest=MAX_PRICE)
    if not isinstance(is_preferred, bool):
        raise InvalidInput(_("Preferred must be true or false."), field="is_preferred")
    with transaction.atomic():
        # Supplier, then product, then the product's lines in pk order: every writer of
        # supplier lines locks in this order, so two never wait on each other in a circle.
        supplier = _lock_supplier(supplier_id, no_key=True)
        product = _lock_product(product_id, no_key=True)
        lines = list(
            SupplierProduct.objects.select_for_update().filter(product=product).order_by("pk")
        )
        if product.is_countable:
            for amount, field, label in (
                (pack, "pack_size", _("Pack size")),
                (moq, "minimum_order_quantity", _("Minimum order quantity")),
            ):
                if amount != amount.to_integral_value():
                    raise InvalidInput(
                        _("%(name)s for %(sku)s must be a whole number of %(unit)s.")
                        % {"name": label, "sku": product.sku, "unit": product.get_unit_display()},
                        field=field,
                    )
        line = next((row for row in lines if row.supplier_id == supplier.pk), None)
        if line is None:
            line = SupplierProduct(supplier=supplier, product=product)
        line.supplier_sku = _text(supplier_sku, field="supplier_sku")
        line.pack_size = pack
        line.price = unit_price
        line.minimum_order_quantity = moq
        line.is_preferred = is_preferred
        full_clean(line, exclude=["supplier", "product"])
        if is_preferred:
            for other in lines:
                if other.is_preferred and other.pk != line.pk:
                    # Before the line is saved: the one-preferred index checks each statement.
                    other.is_preferred = False
                    other.save(update_fields=["is_preferred", "updated_at"])
        line.save()
    line.supplier, line.product = supplier, product
    return line


def remove_supplier_product(
    *, actor: Any, supplier_id: uuid.UUID | str, product_id: uuid.UUID | str
) -> None:
    """The supplier no longer sells the product. Orders already drafted keep their lines."""
    require_admin(actor, _("Only an administrator can change what suppliers sell."))
    with transaction.atomic():
        supplier = _lock_supplier(supplier_id, no_key=True)
        try:
            line = SupplierProduct.objects.select_for_update().get(
                supplier=supplier, product_id=product_id
            )
        except (SupplierProduct.DoesNotExist, ValidationError, ValueError):
            raise UnknownSupplierProduct(
                _("Supplier %(code)s does not sell a product with id %(id)s.")
                % {"code": supplier.code, "id": product_id}
            ) from None
        line.delete()


def _lock_supplier(supplier_id: uuid.UUID | str, *, no_key: bool = False) -> Supplier:
    try:
        return Supplier.objects.select_for_update(no_key=no_key).get(pk=supplier_id)
    except (Supplier.DoesNotExist, ValidationError, ValueError, TypeError):
        raise UnknownSupplier(_("No supplier with id %(id)s.") % {"id": supplier_id}) from None


def _set_supplier_fields(supplier: Supplier, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if name == "lead_time_days":
            value = _lead_time(value)
        elif name == "is_active":
            if not isinstance(value, bool):
                raise InvalidInput(_("Active must be true or false."), field="is_active")
        else:
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise InvalidInput(_("Must be text."), field=name)
            _refuse_nul(value, field=name)
            value = value.strip()
            if name in {"code", "currency"}:
                value = value.upper()
        setattr(supplier, name, value)


def _refuse_nul(value: str, *, field: str) -> None:
    # PostgreSQL refuses NUL in text: said here rather than failing the insert.
    if "\x00" in value:
        raise InvalidInput(_("Null characters are not allowed."), field=field)


def _text(value: Any, *, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(_("Must be text."), field=field)
    _refuse_nul(value, field=field)
    return value.strip()


def _lead_time(value: Any) -> int:
    message = _("The lead time is a whole number of days from 0 to %(max)d.") % {
        "max": MAX_LEAD_TIME_DAYS
    }
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise InvalidInput(message, field="lead_time_days")
    try:
        days = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise InvalidInput(message, field="lead_time_days") from None
    if not days.is_finite() or days != days.to_integral_value():
        raise InvalidInput(message, field="lead_time_days")
    if not 0 <= days <= MAX_LEAD_TIME_DAYS:
        raise InvalidInput(message, field="lead_time_days")
    return int(days)


def _amount(
    value: Any,
    *,
    field: str,
    places: int = QUANTITY_DECIMAL_PLACES,
    largest: Decimal = MAX_QUANTITY,
    positive: bool = False,
) -> Decimal:
    """An exact decimal for ``field``: finite, not negative (above zero when ``positive``),
    at most ``places`` decimals and no larger than ``largest``."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InvalidInput(_("Enter a number."), field=field)
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Enter a number."), field=field) from None
    if not amount.is_finite():
        raise InvalidInput(_("Enter a finite number."), field=field)
    if positive and amount <= 0:
        raise InvalidInput(_("Must be greater than zero."), field=field)
    if amount < 0:
        raise InvalidInput(_("Cannot be negative."), field=field)
    if amount > largest:
        raise InvalidInput(
            _("Must be at most %(max)s.") % {"max": f"{largest.normalize():f}"}, field=field
        )
    quantum = Decimal(1).scaleb(-places)
    if amount != amount.quantize(quantum):
        raise InvalidInput(
            _("Use at most %(places)d decimal places.") % {"places": places}, field=field
        )
    return amount.quantize(quantum)


def _validate_supplier(supplier: Supplier) -> None:
    full_clean(supplier)
    others = Supplier.objects.exclude(pk=supplier.pk)
    if others.filter(code__iexact=supplier.code).exists():
        raise InvalidInput(
            _("A supplier with the code %(code)s already exists.") % {"code": supplier.code},
            field="code",
        )
    if others.filter(name__iexact=supplier.name).exists():
        raise InvalidInput(
            _("A supplier named %(name)s already exists.") % {"name": supplier.name},
            field="name",
        )


# Shared -----------------------------------------------------------------------------------


def _check_editable(function: str, changes: dict[str, Any], editable: frozenset[str]) -> None:
    unknown = set(changes) - editable
    if unknown:
        raise TypeError(f"{function}() cannot change {', '.join(sorted(unknown))}")


# Imports ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedProduct:
    """One row of a products file: the product's SKU and the fields it sets, as checked by
    ``catalog.imports.check_products`` (``category`` by name, amounts as text)."""

    row: int
    sku: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class ImportResult:
    created_categories: int
    created_products: int
    updated_products: int
    unchanged_products: int


IMPORT_CHUNK = 5000


def import_catalog(
    *, actor: Any, categories: Sequence[str], products: Sequence[ImportedProduct]
) -> ImportResult:
    """Add the ``categories`` not there yet and add or change the ``products``, all in one
    transaction: the rules of create_category, create_product and update_product for every
    row, and nothing written when any row breaks one (InvalidInput naming the row).

    Rows are written in bulk; each changed product is announced as update_product does.
    """
    require_admin(actor, _("Only an administrator can import the catalog."))
    rows_by_sku: dict[str, ImportedProduct] = {}
    for line in products:
        key = line.sku.upper()
        if key in rows_by_sku:
            raise InvalidInput(
                _("Row %(row)d: SKU %(sku)s is also on row %(other)d.")
                % {"row": line.row, "sku": line.sku, "other": rows_by_sku[key].row},
                field=f"rows.{line.row}.sku",
            )
        rows_by_sku[key] = line
    with transaction.atomic():
        known = {c.name.lower(): c for c in Category.objects.select_for_update()}
        added = []
        for name in categories:
            if name.lower() in known:
                continue
            category = Category(name=name.strip())
            _validate_category(category)
            known[category.name.lower()] = category
            added.append(category)
        Category.objects.bulk_create(added)

        current: dict[str, Product] = {}
        skus = list(rows_by_sku)
        for start in range(0, len(skus), IMPORT_CHUNK):
            locked = (
                Product.objects.select_for_update(no_key=True)
                .annotate(upper_sku=Upper("sku"))
                .filter(upper_sku__in=skus[start : start + IMPORT_CHUNK])
                .order_by("pk")
            )
            current |= {product.sku.upper(): product for product in locked}

        now = timezone.now()
        new: list[Product] = []
        changed: list[tuple[Product, dict[str, Any]]] = []
        unit_changed: dict[uuid.UUID, ImportedProduct] = {}
        for key, line in rows_by_sku.items():
            product = current.get(key)
            if product is None:
                product = Product(sku=line.sku, created_at=now)
            before = {name: getattr(product, name) for name in PRODUCT_FIELDS}
            for name, value in line.fields.items():
                if name == "category":
                    category = known.get(str(value).lower())
                    if category is None:
                        raise InvalidInput(
                            _("Row %(row)d: no category named %(name)s.")
                            % {"row": line.row, "name": value},
                            field=f"rows.{line.row}.category",
                        )
                    product.category_id = category.pk
                elif name == "barcode":
                    product.barcode = _clean_barcode(value)
                elif name in PRODUCT_FIELDS:
                    setattr(product, name, Product._meta.get_field(name).to_python(value))
                else:
                    raise TypeError(f"import_catalog() cannot set {name}")
            try:
                full_clean(product, exclude=["category", "created_at", "updated_at"])
            except InvalidInput as error:
                raise InvalidInput(
                    _("Row %(row)d: %(message)s") % {"row": line.row, "message": error.message},
                    field=f"rows.{line.row}.{error.field or 'sku'}",
                ) from None
            product.updated_at = now
            if product._state.adding:
                new.append(product)
                continue
            previous = {
                name: before[name]
                for name in PRODUCT_FIELDS
                if before[name] != getattr(product, name)
            }
            if previous:
                changed.append((product, previous))
                if "unit" in previous:
                    unit_changed[product.pk] = line

        if unit_changed:
            held = (
                Product.objects.filter(pk__in=list(unit_changed))
                .filter(Q(stock_levels__isnull=False) | Q(stock_movements__isnull=False))
                .values_list("pk", flat=True)
                .distinct()
            )
            for product_id in held:
                line = unit_changed[product_id]
                raise Conflict(
                    _(
                        "Row %(row)d: product %(sku)s has stock history; its unit cannot "
                        "change. Deactivate it and add a new product instead."
                    )
                    % {"row": line.row, "sku": line.sku},
                    field=f"rows.{line.row}.unit",
                )
        _check_imported_barcodes(new, [product for product, _previous in changed], rows_by_sku)

        try:
            with transaction.atomic():
                Product.objects.bulk_create(new, batch_size=1000)
                fields = sorted(
                    {name for _product, previous in changed for name in previous}
                    | ({"updated_at"} if changed else set())
                )
                if changed:
                    Product.objects.bulk_update(
                        [product for product, _previous in changed], fields, batch_size=1000
                    )
        except IntegrityError:
            raise Conflict(
                _("The catalog changed while the file was imported; upload it again.")
            ) from None

        for product, previous in changed:
            realtime.publish(PRODUCT_CHANGED, ProductChanged.of(product, list(previous)))
            product_changed.send(sender=Product, product=product, previous=previous)
    return ImportResult(
        created_categories=len(added),
        created_products=len(new),
        updated_products=len(changed),
        unchanged_products=len(rows_by_sku) - len(new) - len(changed),
    )


def _check_imported_barcodes(
    new: list[Product], changed: list[Product], rows: dict[str, ImportedProduct]
) -> None:
    """No two products end up with one barcode: one query for the barcodes the rows set."""
    wanted: dict[str, Product] = {}
    for product in [*new, *changed]:
        if product.barcode is None:
            continue
        other = wanted.get(product.barcode)
        if other is not None:
            line = rows[product.sku.upper()]
            raise InvalidInput(
                _("Row %(row)d: barcode %(barcode)s is also on row %(other)d.")
                % {
                    "row": line.row,
                    "barcode": product.barcode,
                    "other": rows[other.sku.upper()].row,
                },
                field=f"rows.{line.row}.barcode",
            )
        wanted[product.barcode] = product
    if not wanted:
        return
    importing = {product.pk for product in [*new, *changed]}
    for start in range(0, len(wanted), IMPORT_CHUNK):
        barcodes = list(wanted)[start : start + IMPORT_CHUNK]
        holders = Product.objects.filter(barcode__in=barcodes).values_list("pk", "barcode", "sku")
        for holder_id, barcode, sku in holders:
            product = wanted[barcode]
            if holder_id != product.pk and holder_id not in importing:
                line = rows[product.sku.upper()]
                raise InvalidInput(
                    _("Row %(row)d: product %(sku)s already has the barcode %(barcode)s.")
                    % {"row": line.row, "sku": sku, "barcode": barcode},
                    field=f"rows.{line.row}.barcode",
                )
