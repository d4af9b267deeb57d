"""The e-mail that sends a purchase order to its supplier: the order in a plain-text body
and as a CSV attachment (``<reference>.csv``), in the site's language (the supplier is no
user of ours)."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.translation import gettext as _

from stock.quantities import format_quantity
from transfers import purchase_selectors
from transfers.models import PurchaseOrder


def purchase_order_message(order: PurchaseOrder) -> EmailMessage:
    """The message sending ``order`` (with its branch and supplier) to its supplier."""
    branch = order.branch
    supplier = order.supplier
    lines = list(order.lines.select_related("product").order_by("product__sku"))
    subject = _("Purchase order %(reference)s from %(branch)s") % {
        "reference": order.reference,
        "branch": branch.name,
    }
    body = [
        _("Dear %(supplier)s,") % {"supplier": supplier.contact_name or supplier.name},
        "",
        _("please deliver the following to %(branch)s (%(code)s):")
        % {"branch": branch.name, "code": branch.code},
    ]
    if branch.address:
        body.append(branch.address)
    body.append("")
    for line in lines:
        price = "" if line.unit_price is None else f" @ {line.unit_price:f} {order.currency}"
        sku = f"{line.supplier_sku} / " if line.supplier_sku else ""
        body.append(
            f"- {format_quantity(line.quantity_ordered)} {line.product.unit}  "
            f"{sku}{line.product.sku}  {line.product.name}{price}"
        )
    body.append("")
    if order.expected_on:
        body.append(_("Expected by: %(date)s") % {"date": order.expected_on.isoformat()})
    if order.note:
        body.append(_("Note: %(note)s") % {"note": order.note})
    body += [
        _("Please quote %(reference)s on the delivery note and the invoice.")
        % {"reference": order.reference},
        _("The order is attached as %(file)s.") % {"file": f"{order.reference}.csv"},
    ]
    message = EmailMessage(
        subject=subject,
        body="\n".join(body) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[supplier.email],
        # The same Message-ID on every attempt: should a crash make it go out twice, mail
        # clients show it once.
        headers={
            "Message-ID": f"<purchase-order.{order.pk}@{_mail_domain()}>",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach(
        f"{order.reference}.csv", purchase_selectors.order_csv(order), "text/csv; charset=utf-8"
    )
    return message


def _mail_domain() -> str:
    sender = settings.DEFAULT_FROM_EMAIL
    return sender.rsplit("@", 1)[-1].strip(">") if "@" in sender else "localhost"
