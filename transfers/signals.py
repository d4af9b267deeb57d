from django.dispatch import Signal

# Sent by the transfers services inside their transaction after every step, with
# ``transfer`` (the locked, updated Transfer) and ``event`` (the TransferEvent written).
# Receivers that reach outside the process must defer that work with
# ``transaction.on_commit``.
transfer_changed = Signal()
