"""The supplier pages' forms: they parse what was typed; catalog.services decides."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy

from catalog import selectors as catalog_selectors
from catalog.errors import UnknownProduct
from catalog.models import (
    PRICE_DECIMAL_PLACES,
    PRICE_MAX_DIGITS,
    QUANTITY_DECIMAL_PLACES,
    QUANTITY_MAX_DIGITS,
    Product,
)
from catalog.services import MAX_LEAD_TIME_DAYS
from inventory_project.kernel.once import OnceForm

ACTIVE_CHOICES = [
    ("active", gettext_lazy("Active")),
    ("inactive", gettext_lazy("Inactive")),
    ("all", gettext_lazy("All")),
]
# What the active filter asks of the list.
ACTIVE_FILTER = {"active": True, "inactive": False, "all": None}


class SupplierSearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": gettext_lazy("Name, code, contact or e-mail"),
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )
    active = forms.ChoiceField(label=gettext_lazy("Status"), choices=ACTIVE_CHOICES, required=False)
    page = forms.IntegerField(min_value=1, max_value=100_000, required=False)


class SupplierForm(OnceForm):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        help_text=gettext_lazy("Short unique code used on orders, e.g. ACME."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    contact_name = forms.CharField(label=gettext_lazy("Contact"), max_length=120, required=False)
    email = forms.CharField(
        label=gettext_lazy("E-mail"),
        max_length=254,
        required=False,
        help_text=gettext_lazy("Where purchase orders are sent; without one none can be sent."),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        max_length=40,
        required=False,
        # A text input the stylesheet knows; a phone keyboard all the same.
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    lead_time_days = forms.IntegerField(
        label=gettext_lazy("Lead time (days)"),
        min_value=0,
        max_value=MAX_LEAD_TIME_DAYS,
        initial=7,
        help_text=gettext_lazy("Days from sending an order to its delivery."),
    )
    currency = forms.CharField(
        label=gettext_lazy("Currency"),
        max_length=3,
        initial="EUR",
        help_text=gettext_lazy("An ISO 4217 code, e.g. EUR."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": 4}),
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("Active"),
        required=False,
        initial=True,
        help_text=gettext_lazy("Inactive suppliers take no new orders."),
    )

    def changes(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "once"}


def _quantity_field(label, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=QUANTITY_MAX_DIGITS,
        decimal_places=QUANTITY_DECIMAL_PLACES,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        **kwargs,
    )


class SupplierProductForm(OnceForm):
    """One product as the supplier sells it; the product named by its SKU or barcode."""

    product = forms.CharField(
        label=gettext_lazy("Product"),
        max_length=64,
        help_text=gettext_lazy("Its SKU or barcode."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    supplier_sku = forms.CharField(
        label=gettext_lazy("Supplier's SKU"), max_length=64, required=False
    )
    pack_size = _quantity_field(
        gettext_lazy("Pack size"),
        initial=Decimal("1"),
        help_text=gettext_lazy("Orders are whole packs of this many units."),
    )
    price = forms.DecimalField(
        label=gettext_lazy("Unit price"),
        max_digits=PRICE_MAX_DIGITS,
        decimal_places=PRICE_DECIMAL_PLACES,
        initial=Decimal("0"),
        help_text=gettext_lazy("Of one unit, in the supplier's currency."),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    minimum_order_quantity = _quantity_field(
        gettext_lazy("Minimum order quantity"),
        initial=Decimal("0"),
        help_text=gettext_lazy("The least the supplier takes in one order."),
    )
    is_preferred = forms.BooleanField(
        label=gettext_lazy("Preferred supplier of this product"),
        required=False,
        help_text=gettext_lazy("Reorder rules buy from it when they name no supplier."),
    )

    def clean_product(self) -> Product:
        code = self.cleaned_data["product"].strip()
        try:
            return catalog_selectors.product_by_code(barcode=code)
        except UnknownProduct:
            pass
        try:
            return catalog_selectors.product_by_code(sku=code)
        except UnknownProduct:
            raise forms.ValidationError(
                gettext_lazy("No product has the SKU or barcode %(code)s."),
                params={"code": code},
            ) from None

    def line(self) -> dict:
        data = {name: value for name, value in self.cleaned_data.items() if name != "once"}
        data["product_id"] = data.pop("product").pk
        return data


class RemoveForm(OnceForm):
    """Only the key: the product is in the address."""
