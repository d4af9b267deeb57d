from celery import shared_task

from inventory_project.kernel import idempotency


@shared_task
def purge_expired_idempotent_requests() -> int:
    """Run daily by Celery beat: forget stored answers past their retention."""
    return idempotency.purge_expired_requests()
