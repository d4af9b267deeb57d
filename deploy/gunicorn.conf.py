"""gunicorn's settings for the HTTP processes (the image's CMD reads this file).

Chosen by measurement with `make bench` (README, "Tuning"); each can be changed from the
environment without rebuilding the image.
"""

import os

# Threads in a few processes: a request spends part of its time waiting on PostgreSQL and
# Redis, when another thread of the same process can run, and each process keeps its
# clients' connections alive between requests (the sync worker closes every one).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "30"))

# A request that takes longer than this is a stuck worker: it is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM, requests in flight get this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Replaced after this many requests (spread, so not all at once): memory stays bounded.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10

# nginx logs every request already; set GUNICORN_ACCESS_LOG=- to log them here too.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
# The heartbeat file on tmpfs: a container's overlay file system can stall it.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


# Metrics: with PROMETHEUS_MULTIPROC_DIR set, every process keeps its values in files of that
# directory and /metrics adds them up. The directory starts empty (values of a previous run
# would be counted again) and an exited process's live gauges are dropped.
def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
