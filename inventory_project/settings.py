"""Settings for the inventory project, all read from the environment.

With nothing set the app runs embedded: SQLite (WAL, immediate transactions), the in-memory
channel layer, Celery tasks run eagerly and e-mail goes to the console. ``DATABASE_URL`` and
``REDIS_URL`` switch to PostgreSQL and Redis. ``DJANGO_ENV=production`` turns on the
production checks: a real ``SECRET_KEY`` is required and cookies are secure.
"""

import ipaddress
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)

# Only ever used outside production, where nothing it signs is worth protecting.
_DEVELOPMENT_SECRET_KEY = "development-only-key-never-used-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_DEVELOPMENT_SECRET_KEY)
if PRODUCTION and (
    SECRET_KEY == _DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters in production."
    )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # daphne first: its runserver serves HTTP and websockets through the ASGI app.
    "daphne",
    "inventory_project.apps.InventoryAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "knox",
    "guardian",
    "axes",
    "django_prometheus",
    "inventory_project.kernel",
    "branches",
    "catalog",
    "accounts",
    "stock",
    "transfers",
    "alerts",
]

MIDDLEWARE = [
    # First: every later middleware's log lines, and the response, carry the request id.
    "inventory_project.kernel.middleware.RequestIdMiddleware",
    # First and last but axes: request counts and latency include every other middleware's,
    # and each request's latency is recorded by route (its URL name).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # With a read replica: someone who just wrote reads from the primary for a while.
    "inventory_project.kernel.middleware.RecentWriteMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the signed-in person's own language wins over the browser's.
    "accounts.middleware.UserLanguageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "inventory_project.kernel.middleware.ApiBodyLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into a 429 answer.
    "axes.middleware.AxesMiddleware",
]

if PRODUCTION:
    # gunicorn serves the collected static files itself; in development runserver does.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "inventory_project.urls"
WSGI_APPLICATION = "inventory_project.wsgi.application"
ASGI_APPLICATION = "inventory_project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "inventory_project.shell.shell",
            ],
        },
    },
]

# Database ------------------------------------------------------------------------------


def _database(database: dict) -> dict:
    if database["ENGINE"] == "django.db.backends.postgresql":
        # Django's, with a health check that pings only a connection left idle.
        database["ENGINE"] = "inventory_project.kernel.postgresql"
        if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
            # Parameters bound by the server, and a statement sent a second time on a
            # connection prepared, so PostgreSQL plans it once: planning a list page's joins
            # costs more than running them. Off behind a pooler that cannot keep prepared
            # statements (PgBouncer in transaction mode before 1.21).
            database["OPTIONS"] = {
                **database.get("OPTIONS", {}),
                "server_side_binding": True,
                "prepare_threshold": 1,
            }
    # Persistent connections, checked before reuse: opening one per request costs 4x.
    database["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    database["CONN_HEALTH_CHECKS"] = True
    return database


if "DATABASE_URL" in env:
    DATABASES = {"default": _database(env.db_url("DATABASE_URL"))}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": Path(env.str("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3"))),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the
                # busy timeout instead of failing mid-transaction with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            },
        }
    }
# A read replica of the primary (PostgreSQL streaming replication), optional: the reports
# and lists read from it (inventory_project.kernel.db_router), except for someone who wrote
# within DATABASE_REPLICA_LAG_SECONDS, who reads their own writes from the primary. Writes
# and migrations always go to the primary.
if "DATABASE_REPLICA_URL" in env:
    if "replica" in DATABASES or "DATABASE_URL" not in env:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL (the primary).")
    DATABASES["replica"] = _database(env.db_url("DATABASE_REPLICA_URL"))
    # In tests, a database of its own standing in for the replica (not a mirror of the
    # primary's, which would hide where the reads went).
    DATABASES["replica"]["TEST"] = {"DEPENDENCIES": ["default"]}
DATABASE_ROUTERS = ["inventory_project.kernel.db_router.ReplicaRouter"]
DATABASE_REPLICA_LAG_SECONDS = env.int("DATABASE_REPLICA_LAG_SECONDS", default=10)
# A persistent connection that ran a query this recently is used without a ping first.
DATABASE_HEALTH_CHECK_IDLE = env.float("DATABASE_HEALTH_CHECK_IDLE", default=1.0)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: channel layer and Celery broker ---------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")

# Redis's publish/subscribe channels are one namespace for the whole server, whatever
# database number the URL names: two installations sharing a Redis (production and a staging
# copy restored from its backup) must not hear each other's events.
CHANNEL_LAYER_PREFIX = env.str(
    "CHANNEL_LAYER_PREFIX", default="asgi" + (urlsplit(REDIS_URL).path.strip("/") or "0")
)

if REDIS_URL:
    # Publish/subscribe: an event is published once per branch and every server process
    # passes it to its own sockets of that branch, rather than one Redis message per socket.
    # Live events are not stored: a client that was away sees the gap in `version` and
    # refetches through the API.
    # Reconnects after a Redis restart; connecting gives up soon, so that a websocket
    # handshake with Redis down is answered (a close frame) rather than left hanging.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "inventory_project.kernel.channel_layer.ReconnectingPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 1}],
                "prefix": CHANNEL_LAYER_PREFIX,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Which branches someone may view is the permission module's answer: the websocket and the
# layers below accounts ask it through this name (inventory_project.kernel.access).
PERMISSION_POLICY = "accounts.permissions"
# A websocket ticket (POST /api/v1/realtime/tickets/) opens one socket within this long.
WS_TICKET_SECONDS = env.int("WS_TICKET_SECONDS", default=30)
# Live events leave through a publisher thread after commit; the tests set this so that a
# commit returns only once its events are out (never in production: a request would wait).
REALTIME_WAIT_FOR_DELIVERY = False

# Throttling counters, live-event numbers and websocket tickets: shared by every process
# through Redis, per process without it.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "inventory_project.kernel.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "inventory",
            # A Redis that is down or hung fails a request's throttle check within a
            # second, and the request goes on without it (inventory_project.kernel.outage).
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The broker may be a Redis of its own (CELERY_BROKER_URL); by default it is REDIS_URL's.
# Eager tasks still take a producer from the broker pool (Celery picks its serializer), and
# kombu warns of an in-memory broker URL without a host: hence the host.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# No task is lost to a crash: a message is acknowledged only once its task has finished, a
# task whose worker process died is put back, and each worker process holds one message
# it has not started. Redis hands an unacknowledged message to another worker once
# CELERY_VISIBILITY_TIMEOUT has passed; it must outlast the longest task plus the longest
# retry countdown (a countdown is held unacknowledged), which a system check enforces.
# Every task is idempotent, as a message may then run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
# A worker's claim on sending an alert's e-mail: longer than a task may run, so that a claim
# runs out only when its worker died, and another then sends the e-mail.
ALERT_MAIL_CLAIM_SECONDS = env.int("ALERT_MAIL_CLAIM_SECONDS", default=CELERY_TASK_TIME_LIMIT + 30)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=60 * 60),
    # A web request publishing a task must not hang on an unreachable broker: the alert
    # row is the outbox, and the sweep queues what did not get through.
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
}
# At worst two connection attempts, a few seconds, before the caller moves on.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_BEAT_SCHEDULE = {
    "purge-expired-idempotent-requests": {
        "task": "inventory_project.kernel.tasks.purge_expired_idempotent_requests",
        "schedule": 60 * 60 * 24,
    },
    "queue-owed-alert-mail": {
        "task": "alerts.tasks.queue_owed_alert_mail",
        "schedule": env.int("ALERT_MAIL_SWEEP_SECONDS", default=5 * 60),
    },
    "send-alert-digests": {
        "task": "alerts.tasks.send_alert_digests",
        "schedule": crontab(minute=0, hour=env.int("ALERT_DIGEST_HOUR", default=7)),
    },
    # Orders sent whose e-mail to the supplier is still owed (a lost task, a dead worker).
    "send-owed-purchase-orders": {
        "task": "transfers.tasks.send_owed_purchase_orders",
        "schedule": env.int("PURCHASE_ORDER_MAIL_SWEEP_SECONDS", default=5 * 60),
    },
}

# Authentication ---------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Refuses sign-ins while a user/address pair is locked out; authenticates no one itself.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# A working day; shared shop terminals should not stay signed in for weeks.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Object permissions live on Branch only; the anonymous user never holds any.
ANONYMOUS_USER_NAME = None

# Failed sign-ins (session, admin and API token alike): after LOGIN_FAILURE_LIMIT failures
# for one e-mail address from one client address, that pair is locked out for
# LOGIN_LOCKOUT_MINUTES. Locking the pair, not the account, stops guessing without letting a
# stranger lock a colleague out.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Every sign-in path passes the e-mail address as ``username`` to authenticate().
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.authentication.attempted_email"
# Who failed to sign in, and from where, belongs in the security log.
AXES_SENSITIVE_PARAMETERS = []
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# Behind our nginx the client's address is in X-Real-IP, which nginx always overwrites;
# without a proxy in front, a client could write that header itself, so it is ignored.
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_REAL_IP", "REMOTE_ADDR"] if BEHIND_PROXY else ["REMOTE_ADDR"]
)

# API ------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.DeviceTokenAuthentication",
        # Browsable API; enforces CSRF.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "inventory_project.kernel.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "inventory_project.kernel.throttling.UserThrottle",
        "inventory_project.kernel.throttling.AnonymousThrottle",
    ],
    "DEFAULT_SCHEMA_CLASS": "inventory_project.kernel.schema.AutoSchema",
    "EXCEPTION_HANDLER": "inventory_project.kernel.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
# Requests per user and per anonymous client address, e.g. "1200/min"; empty for no limit.
API_THROTTLE_RATES = {
    "user": env.str("API_USER_RATE", default="1200/min") or None,
    "anon": env.str("API_ANON_RATE", default="120/min") or None,
}
# Larger API request bodies are refused (413) before they are read.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
# How long an Idempotency-Key keeps its answer; a retry within it is answered from storage.
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=48)
# A list's total is counted up to this many rows; a longer one answers the number with
# count_is_estimate true, so no page costs a count of the whole table.
PAGINATION_COUNT_LIMIT = env.int("PAGINATION_COUNT_LIMIT", default=1000)

SPECTACULAR_SETTINGS = {
    "TITLE": "Inventory API",
    "DESCRIPTION": (
        "Stock of every branch, its ledger, and the people who move it.\n\n"
        "Sign a device in with `POST /api/v1/auth/token/` and send "
        "`Authorization: Token <token>`; in a browser the session works too (with CSRF). "
        "Every error answers `{code, message, fields}`. Stock-changing POSTs accept an "
        "`Idempotency-Key` header: a retry with the same key and body gets the first answer."
    ),
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from drf-spectacular-sidecar's static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would send the schema to validator.swagger.io for its badge.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # The system's fonts: ReDoc's own (Roboto, Montserrat) would come from Google's servers,
    # and its page (templates/api/redoc.html) links to no other host.
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": "system-ui, -apple-system, 'Segoe UI', sans-serif",
                "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', sans-serif"},
                "code": {"fontFamily": "ui-monospace, 'SFMono-Regular', Menlo, monospace"},
            }
        }
    },
    # One named enum per set of choices, whatever the fields using it are called.
    "ENUM_NAME_OVERRIDES": {
        "TransferStatusEnum": "transfers.models.TransferStatus",
        "TransferKindEnum": "transfers.models.TransferKind",
        "TransferStepEnum": "transfers.models.TransferStep",
        "ShortfallReasonEnum": "transfers.models.ShortfallReason",
        "AdjustmentReasonEnum": "stock.models.AdjustmentReason",
        "PurchaseOrderStatusEnum": "transfers.models.PurchaseOrderStatus",
        "OrderMailStatusEnum": "transfers.models.OrderMailStatus",
        "PurchaseOrderStepEnum": "transfers.models.PurchaseOrderStep",
        # What may be done next: a transfer's steps and an order's are different sets.
        "TransferNextStepEnum": "transfers.workflow.STEP_NAMES",
        "PurchaseOrderNextStepEnum": "transfers.purchase_workflow.STEP_NAMES",
    },
}

# Monitoring ---------------------------------------------------------------------------------

# Who may read GET /metrics (anyone else gets a 404): a scraper sending
# "Authorization: Bearer <METRICS_TOKEN>", or a client in METRICS_ALLOWED_NETWORKS (CIDRs,
# e.g. "10.0.0.0/8,172.16.0.0/12"; behind our proxy its X-Real-IP address, see
# BEHIND_PROXY). Outside production the loopback may too.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
for _network in METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {_error}") from None
# The inventory's gauges (low stock, open alerts, transfers in transit) are counted at most
# once per this many seconds per process.
METRICS_STATE_SECONDS = env.float("METRICS_STATE_SECONDS", default=10.0)
# Request latency buckets (seconds), per route.
PROMETHEUS_LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, float("inf"),
)  # fmt: skip

KNOX_TOKEN_MODEL = "accounts.ApiToken"
# knox's own migrations create its default token table even when the model is swapped out;
# without them nothing of knox's reaches the database.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_PREFIX": "inv_",
    # Each use extends a token to API_TOKEN_TTL_DAYS from now, but never beyond
    # API_TOKEN_MAX_DAYS after it was issued: a device in daily use stays signed in, a lost
    # one stops working on its own, and every device signs in again at least that often.
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=14)),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(days=env.int("API_TOKEN_MAX_DAYS", default=90)),
    "MIN_REFRESH_INTERVAL": 60,
    "TOKEN_LIMIT_PER_USER": env.int("API_TOKENS_PER_USER", default=20),
}
# A process remembers a token it checked for this long, trusting it while the token's stamp
# in Redis stands (every revocation removes it); without Redis every request asks the database.
API_TOKEN_CACHE_SECONDS = env.int("API_TOKEN_CACHE_SECONDS", default=10 if REDIS_URL else 0)
API_TOKEN_CACHE_SIZE = env.int("API_TOKEN_CACHE_SIZE", default=1000)

# E-mail -----------------------------------------------------------------------------------

if "EMAIL_URL" in env:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="inventory@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A mail server that stops answering fails the send, to be retried, rather than holding
# a worker until the task's time limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
# Where links in e-mails point: the address people open the app at.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# One password-reset e-mail per account within this many seconds: asking again and again
# (or someone else asking for that address) does not fill the person's inbox.
PASSWORD_RESET_MAIL_COOLDOWN_SECONDS = env.int("PASSWORD_RESET_MAIL_COOLDOWN_SECONDS", default=60)

# Purchase orders: a line may receive up to this share more than was ordered (0.10 = 10 %)
# without a reason; beyond it, the receiver says why. A worker sending an order to its
# supplier holds the send for PURCHASE_ORDER_MAIL_LEASE_SECONDS; a send still not done after
# that is taken up again (by the beat sweep), so each order is e-mailed once.
PURCHASE_RECEIPT_TOLERANCE = env.float("PURCHASE_RECEIPT_TOLERANCE", default=0.10)
PURCHASE_ORDER_MAIL_LEASE_SECONDS = env.int("PURCHASE_ORDER_MAIL_LEASE_SECONDS", default=300)

# Low-stock alert e-mail: the first retry after ALERT_MAIL_RETRY_SECONDS, doubling up to
# ALERT_MAIL_RETRY_MAX_SECONDS, ALERT_MAIL_RETRIES times; an alert still unsent
# ALERT_MAIL_REQUEUE_MINUTES after it was queued is queued again by the sweep, and one not
# sent within ALERT_MAIL_GIVE_UP_HOURS is left to the daily digest.
ALERT_MAIL_RETRY_SECONDS = env.int("ALERT_MAIL_RETRY_SECONDS", default=30)
ALERT_MAIL_RETRY_MAX_SECONDS = env.int("ALERT_MAIL_RETRY_MAX_SECONDS", default=10 * 60)
ALERT_MAIL_RETRIES = env.int("ALERT_MAIL_RETRIES", default=8)
ALERT_MAIL_REQUEUE_MINUTES = env.int("ALERT_MAIL_REQUEUE_MINUTES", default=60)
ALERT_MAIL_GIVE_UP_HOURS = env.int("ALERT_MAIL_GIVE_UP_HOURS", default=24)

# Internationalisation ---------------------------------------------------------------------

# Everyone chooses a language on their account page (User.language); without a choice, the
# browser's Accept-Language decides among these.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "inventory_project" / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# Static files -----------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Security ---------------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Health checks come from inside the network, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^health/ready$", r"^health/live$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Logging ----------------------------------------------------------------------------------

# LOG_FORMAT=json: one JSON object per line (time, level, logger, message, request_id, and
# for each request method, path, status, duration_ms and user_id), what a log collector
# reads; the default in production. "plain": readable text, the default in development.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'plain'.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "inventory_project.kernel.logging.JsonFormatter"},
    },
    # A Redis outage is one WARNING a minute from these, not a traceback per failure.
    "filters": {
        "redis_outage": {"()": "inventory_project.kernel.outage.OutageLogFilter"},
        "request_id": {"()": "inventory_project.kernel.logging.RequestIdFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Without handlers of its own: Django's default console handler on "django" would
        # print every record a second time beside the root's (each request, under runserver).
        "django": {"handlers": []},
        "django.db.backends": {"level": "WARNING"},
        # Refused sign-ins, lockouts and permission denials: kept at WARNING and above.
        "axes": {"level": "WARNING"},
        "inventory_project.kernel.realtime": {"filters": ["redis_outage"]},
        "channels_redis.pubsub": {"filters": ["redis_outage"]},
        # A line per request and per transaction's live events, for the log collector; in
        # development the server prints its own request lines.
        "inventory_project.requests": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"},
        "inventory_project.kernel.realtime.published": {
            "level": "INFO" if LOG_FORMAT == "json" else "WARNING"
        },
    },
}
