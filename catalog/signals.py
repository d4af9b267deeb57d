from django.dispatch import Signal

# Sent by catalog.services.update_product inside its transaction, with ``product`` (the
# saved Product) and ``previous`` (the old values of the fields that changed). Receivers
# that reach outside the process must defer that work with ``transaction.on_commit``.
product_changed = Signal()
