"""The Celery application; configured from Django settings (the ``CELERY_`` names).

With ``CELERY_METRICS_PORT`` set, a worker serves its metrics (task outcomes and durations,
alert e-mails, database queries) at ``http://<CELERY_METRICS_ADDRESS>:<port>/metrics`` from
its main process; with the prefork pool, set ``PROMETHEUS_MULTIPROC_DIR`` too (a directory
of the worker's own, empty when it starts: a tmpfs), so that what the pool's processes count
is added up there.
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inventory_project.settings")

app = Celery("inventory_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect(weak=False, dispatch_uid="metrics.worker_exporter")
def serve_worker_metrics(**kwargs) -> None:
    port = os.environ.get("CELERY_METRICS_PORT")
    if not port:
        return
    from prometheus_client import start_http_server

    from inventory_project.kernel import metrics

    start_http_server(
        int(port),
        addr=os.environ.get("CELERY_METRICS_ADDRESS", "0.0.0.0"),
        registry=metrics.process_registry(),
    )


@signals.worker_process_shutdown.connect(weak=False, dispatch_uid="metrics.pool_process_exited")
def forget_pool_process(pid=None, **kwargs) -> None:
    from inventory_project.kernel import metrics

    metrics.process_exited(pid or os.getpid())


# Logs: a task's lines carry the id of the request that queued it ------------------------


@signals.before_task_publish.connect(weak=False, dispatch_uid="logging.request_id_out")
def send_request_id(headers=None, **kwargs) -> None:
    from inventory_project.kernel import logging as request_logging

    request_logging.add_request_id_header(headers=headers)


@signals.task_prerun.connect(weak=False, dispatch_uid="logging.request_id_in")
def take_request_id(task_id=None, task=None, **kwargs) -> None:
    from inventory_project.kernel import logging as request_logging

    request_logging.restore_request_id(task_id=task_id, task=task)


@signals.task_postrun.connect(weak=False, dispatch_uid="logging.request_id_done")
def drop_request_id(task_id=None, **kwargs) -> None:
    from inventory_project.kernel import logging as request_logging

    request_logging.forget_request_id(task_id=task_id)


@signals.setup_logging.connect(weak=False, dispatch_uid="logging.django_config")
def keep_django_logging(loglevel=None, **kwargs) -> None:
    """The worker and beat log as the web processes do (settings.LOGGING: JSON lines with
    LOG_FORMAT=json, the task's request id), not in Celery's own format; ``--loglevel``
    still sets the level."""
    import logging

    if loglevel:
        logging.getLogger().setLevel(loglevel)
