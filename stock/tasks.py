"""The Celery task that applies an import: a file of 100,000 rows takes about a minute,
longer than a web request may run, so the Apply button asks a worker (services.queue_import)
and the import's page shows how it went.

The task is idempotent, as every task here must be (late acknowledgement runs a message
again after its worker died): services.apply_import applies an import once however often it
is called, and one applied meanwhile is answered as it is.
"""

import datetime
import logging
import uuid

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from accounts.models import User
from inventory_project.kernel.errors import DomainError
from stock import services

logger = logging.getLogger(__name__)

# A 100,000-row file applies in about a minute on a small machine; a task still running at
# the soft limit stops, writing nothing, and says so. The lease of an import being applied
# (services.IMPORT_APPLY_LEASE) outlasts the hard limit.
APPLY_SOFT_TIME_LIMIT = 9 * 60
APPLY_TIME_LIMIT = 10 * 60


@shared_task(acks_late=True, soft_time_limit=APPLY_SOFT_TIME_LIMIT, time_limit=APPLY_TIME_LIMIT)
def apply_import(import_id: str, actor_id: str, language: str | None = None) -> str:
    """Apply the import as ``actor_id`` asked (services.apply_import), once; a refusal is
    kept on the import, in ``language`` (the asker's), for its page to show.

    Returns what happened: ``applied``, ``already applied`` or ``refused``.
    """
    actor = User.objects.filter(pk=actor_id).first()
    with translation.override(language or getattr(actor, "language", "") or settings.LANGUAGE_CODE):
        if actor is None or not actor.is_active:
            problem = _(
                "The person who asked to apply the file can no longer; nothing was written."
            )
            services.note_import_failed(import_id=import_id, problem=problem)
            return "refused"
        try:
            _import, now = services.apply_import(actor=actor, import_id=import_id)
        except DomainError as error:
            logger.info("Import %s not applied: %s", import_id, error.message)
            services.note_import_failed(import_id=import_id, problem=error.message)
            return "refused"
        except SoftTimeLimitExceeded:
            logger.error(
                "Import %s took longer than %d s to apply", import_id, APPLY_SOFT_TIME_LIMIT
            )
            problem = _(
                "Applying the file took longer than %(minutes)d minutes and was stopped; "
                "nothing was written. Split the file and import the parts."
            ) % {"minutes": APPLY_SOFT_TIME_LIMIT // 60}
            services.note_import_failed(import_id=import_id, problem=problem)
            return "refused"
        except Exception:
            # Whatever went wrong was rolled back: the page says so instead of waiting on.
            logger.exception("Import %s failed to apply", import_id)
            problem = _("Applying the file failed on the server; nothing was written. Try again.")
            services.note_import_failed(import_id=import_id, problem=problem)
            return "failed"
    return "applied" if now else "already applied"


def queue_apply_import(
    import_id: uuid.UUID | str,
    actor_id: uuid.UUID | str,
    requested_at: datetime.datetime,
    language: str | None = None,
) -> bool:
    """Hand the import to a worker; run once queue_import committed (eagerly, as under
    ``make run`` without Redis, the import is applied here and then).

    Should the broker be unreachable, the import goes back to PREVIEWED saying so: nothing
    was written or lost, and its page offers Apply again.
    """
    try:
        apply_import.delay(str(import_id), str(actor_id), language)
    except OperationalError as error:
        logger.error("Broker unreachable; import %s not queued: %r", import_id, error)
        with translation.override(language or settings.LANGUAGE_CODE):
            problem = _(
                "The file could not be handed to the worker that applies it (the queue "
                "does not answer); nothing was written. Press Apply again in a moment."
            )
        services.note_import_not_queued(
            import_id=import_id, requested_at=requested_at, problem=problem
        )
        return False
    return True
