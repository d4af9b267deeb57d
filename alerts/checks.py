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
