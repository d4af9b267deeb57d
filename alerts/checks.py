from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility)
def visibility_timeout_outlasts_mail_tasks(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Redis hands an unacknowledged message to another worker after the visibility timeout;
    a retry countdown or a running task longer than that would be run twice at once."""
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    longest = settings.ALERT_MAIL_RETRY_MAX_SECONDS + settings.CELERY_TASK_TIME_LIMIT
    if timeout > longest:
        return []
    return [
        checks.Error(
            f"CELERY_VISIBILITY_TIMEOUT ({timeout} s) must exceed the longest retry countdown "
            f"plus the task time limit ({longest} s).",
            hint="Raise CELERY_VISIBILITY_TIMEOUT or lower ALERT_MAIL_RETRY_MAX_SECONDS.",
            id="alerts.E001",
        )
    ]


@checks.register(checks.Tags.compatibility)
def mail_claim_outlasts_mail_tasks(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """A claim on an alert's e-mail that runs out while its task still runs lets a second
    worker send the same e-mail."""
    if settings.ALERT_MAIL_CLAIM_SECONDS > settings.CELERY_TASK_TIME_LIMIT:
        return []
    return [
        checks.Error(
            f"ALERT_MAIL_CLAIM_SECONDS ({settings.ALERT_MAIL_CLAIM_SECONDS} s) must exceed the "
            f"task time limit ({settings.CELERY_TASK_TIME_LIMIT} s).",
            hint="Raise ALERT_MAIL_CLAIM_SECONDS.",
            id="alerts.E002",
        )
    ]
