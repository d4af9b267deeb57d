"""gunicorn's settings for the HTTP processes (the image's CMD reads this file).

Chosen by measurement with `make bench` (README, "Tuning"); each can be changed from the
environment without rebuilding the image.
"""

import os
import select

# Threads in a few processes: a request spends part of its time waiting on PostgreSQL and
# Redis, when another thread of the same process can run, and each process keeps its
# clients' connections alive between requests (the sync worker closes every one).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "30"))

# A request that takes longer than this is a stuck worker: it is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM, requests in flight get this long to finish (the pod's or container's grace
# period is longer: docker-compose.yml, deploy/k8s/web.yml).
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


# Graceful shutdown. On SIGTERM the master closes its copy of the listening socket, but every
# worker keeps its own until it exits, after the requests it serves have finished: all that
# time the kernel goes on completing connections nobody accepts, and they are reset at the
# end. A load balancer cannot pass such a request to another server (it was sent), so a
# rolling restart would fail some. Instead a stopping worker accepts what is already queued
# and closes its listening sockets at once: once the last worker has, a new connection is
# refused, which a load balancer does retry elsewhere (nginx's proxy_next_upstream error).
def post_worker_init(worker):
    set_accept_enabled = getattr(worker, "set_accept_enabled", None)
    if set_accept_enabled is None:  # a worker class other than gthread: left as it is
        return

    def stop_listening_when_stopping(enabled):
        set_accept_enabled(enabled)
        if enabled or worker.alive:
            return  # only busy: it accepts again in a moment
        for listener in worker.sockets:
            while select.select([listener], [], [], 0)[0]:
                worker.accept(listener)
            listener.close()

    worker.set_accept_enabled = stop_listening_when_stopping
