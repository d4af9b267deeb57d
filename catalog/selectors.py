import uuid

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from catalog.errors import UnknownCategory, UnknownProduct
from catalog.models import Category, Product


def category_list() -> QuerySet[Category]:
    return Category.objects.order_by("name", "pk")


def get_category(*, category_id: uuid.UUID | str) -> Category:
    """Raises UnknownCategory when there is none (or the id is malformed)."""
    try:
        return Category.objects.get(pk=category_id)
    except (Category.DoesNotExist, ValidationError, ValueError):
        raise UnknownCategory(f"No category with id {category_id}.") from None


def product_list() -> QuerySet[Product]:
    """Products with their category, in one query whatever their number."""
    return Product.objects.select_related("category").order_by("name", "pk")


def get_product(*, product_id: uuid.UUID | str) -> Product:
    """The product with its category; raises UnknownProduct when there is none (or the id
    is malformed)."""
    try:
        return product_list().get(pk=product_id)
    except (Product.DoesNotExist, ValidationError, ValueError):
        raise UnknownProduct(_("No product with id %(id)s.") % {"id": product_id}) from None


def product_by_code(*, sku: str | None = None, barcode: str | None = None) -> Product:
    """The product a scanner or a person names: by barcode exactly as printed, or by SKU
    whatever its case. Give exactly one of them. Inactive products are found too, so that
    the caller can say why they take no stock.

    Raises UnknownProduct when there is none.
    """
    if (sku is None) == (barcode is None):
        raise TypeError("product_by_code() takes exactly one of sku and barcode")
    if barcode is not None:
        product = product_list().filter(barcode=barcode).first()
        wanted = _("No product with the barcode %(code)s.") % {"code": barcode}
    else:
        # SKUs are unique whatever their case, so this finds at most one.
        product = product_list().filter(sku__iexact=sku).first()
        wanted = _("No product with the SKU %(code)s.") % {"code": sku}
    if product is None:
        raise UnknownProduct(wanted)
    return product
