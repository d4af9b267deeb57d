import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from alerts.checks import mail_claim_outlasts_mail_tasks, visibility_timeout_outlasts_mail_tasks
from inventory_project.celery import app


def test_the_default_settings_keep_unacknowledged_messages_past_any_retry():
    assert visibility_timeout_outlasts_mail_tasks(None) == []


def test_a_visibility_timeout_shorter_than_a_retry_countdown_fails_the_check(settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}

    with pytest.raises(SystemCheckError, match=r"alerts\.E001"):
        call_command("check")


def test_the_default_mail_claim_outlasts_a_running_task():
    assert mail_claim_outlasts_mail_tasks(None) == []


def test_a_mail_claim_shorter_than_a_task_may_run_fails_the_check(settings):
    settings.ALERT_MAIL_CLAIM_SECONDS = settings.CELERY_TASK_TIME_LIMIT

    with pytest.raises(SystemCheckError, match=r"alerts\.E002"):
        call_command("check")


def test_beat_runs_the_mail_sweep_and_the_daily_digest(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert {"alerts.tasks.queue_owed_alert_mail", "alerts.tasks.send_alert_digests"} <= tasks
    app.loader.import_default_modules()  # what a worker does on start
    assert tasks <= set(app.tasks)


def test_mail_tasks_are_acknowledged_late_and_put_back_when_their_worker_dies():
    conf = app.conf

    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
