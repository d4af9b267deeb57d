from django.dispatch import Signal

# Sent by the stock services inside their transaction, after a level changed, with
# ``level`` (the locked, updated StockLevel) and either ``movement`` (the StockMovement
# written) or, when only the threshold changed, ``movement=None`` and
# ``previous_threshold`` (the threshold in force before). Receivers that reach outside the
# process (e-mail, websocket, Celery) must defer that work with ``transaction.on_commit``.
stock_level_changed = Signal()
