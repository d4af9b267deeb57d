from django.dispatch import Signal

# Sent by accounts.services inside their transaction when what ``user`` may see or do
# changed: a role given, changed or taken away, administrator rights, (de)activation.
# Receivers that reach outside the process must defer that work with
# ``transaction.on_commit``.
access_changed = Signal()
