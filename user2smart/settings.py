"""User2Smart settings: one module, driven by environment variables.

Every variable is listed in `.env.example` and in the README. A malformed value stops start-up
with one line that names the variable and what is wrong with it (no traceback).
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


class _ConfigError(Exception):
    pass


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if not raw:
        return default
    value = raw.lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise _ConfigError(f"{name} must be true or false, not {raw!r}.")


def _env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = _env(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _ConfigError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise _ConfigError(f"{name} must be at least {minimum}, not {value}.")
    return value


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in _env(name, default).split(",") if item.strip()]


# SQLite (the demo) has one writer at a time for the whole file. The write-ahead log lets pages
# read while a worker writes; immediate transactions take the write lock when they begin (no
# deadlock between two readers that both want to write); a writer waits up to 20 s for the lock
# rather than failing with "database is locked".
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
}


def _database(url: str) -> dict:
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    scheme = urlsplit(url).scheme
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise _ConfigError(
            f"DATABASE_URL must start with postgres:// or sqlite://, not {scheme or url!r}."
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise _ConfigError(f"DATABASE_URL cannot be read: {exc}") from None
    if config["ENGINE"].endswith("sqlite3"):
        config["OPTIONS"] = dict(SQLITE_OPTIONS)
        config["CONN_MAX_AGE"] = 0
    return config


def _redis_url(url: str) -> str:
    if urlsplit(url).scheme not in {"redis", "rediss", "unix"}:
        raise _ConfigError(
            f"REDIS_URL must start with redis://, rediss:// or unix://, not {url!r}."
        )
    return url


def _encryption_keys(raw: str, *, debug: bool, secret_key: str) -> list[bytes]:
    from cryptography.fernet import Fernet

    if not raw:
        if not debug:
            raise _ConfigError(
                "FIELD_ENCRYPTION_KEYS is required when DJANGO_DEBUG is false "
                "(make one with: python -m user2smart.companies.keys)."
            )
        # Development only: a key derived from the (development) secret key.
        return [base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest())]
    keys = []
    for position, key in enumerate(raw.split(","), start=1):
        key = key.strip().encode()
        try:
            Fernet(key)
        except ValueError:
            raise _ConfigError(
                f"FIELD_ENCRYPTION_KEYS: key {position} is not a Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from None
        keys.append(key)
    return keys


def _time_zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _ConfigError(
            f"TIME_ZONE {name!r} is not a known time zone (e.g. Europe/Paris)."
        ) from None
    return name


try:
    DEBUG = _env_bool("DJANGO_DEBUG", False)
    SECRET_KEY = _env("DJANGO_SECRET_KEY")
    if not SECRET_KEY:
        if not DEBUG:
            raise _ConfigError("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is false.")
        SECRET_KEY = "development-only-not-secret"  # noqa: S105
    ALLOWED_HOSTS = _env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
    DATABASES = {"default": _database(_env("DATABASE_URL"))}
    REDIS_URL = _redis_url(_env("REDIS_URL", "redis://127.0.0.1:6379/0"))
    FIELD_ENCRYPTION_KEYS = _encryption_keys(
        _env("FIELD_ENCRYPTION_KEYS"), debug=DEBUG, secret_key=SECRET_KEY
    )
    TIME_ZONE = _time_zone(_env("TIME_ZONE", "UTC"))
    EMAIL_BACKEND = _env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    EMAIL_HOST = _env("EMAIL_HOST", "localhost")
    EMAIL_PORT = _env_int("EMAIL_PORT", 25, minimum=1)
    EMAIL_HOST_USER = _env("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = _env("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", False)
    EMAIL_TIMEOUT = 20
    DEFAULT_FROM_EMAIL = _env("DEFAULT_FROM_EMAIL", "User2Smart <user2smart@localhost>")
    SERVER_EMAIL = DEFAULT_FROM_EMAIL
    CELERY_TASK_DEFAULT_QUEUE = _env("CELERY_QUEUE", "user2smart")
    IMPORT_MAX_FILE_BYTES = _env_int("IMPORT_MAX_FILE_MB", 50, minimum=1) * 1024 * 1024
    IMPORT_MAX_ROWS = _env_int("IMPORT_MAX_ROWS", 200_000, minimum=1)
    # Rows of one run in the queue at once, as a multiple of the company's concurrency.
    IMPORT_WINDOW_FACTOR = _env_int("IMPORT_WINDOW_FACTOR", 2, minimum=1)
    # A row sent this many times without an answer ends in error ("Retry failed rows").
    IMPORT_ROW_MAX_ATTEMPTS = _env_int("IMPORT_ROW_MAX_ATTEMPTS", 6, minimum=1)
    IMPORT_RETRY_MAX_SECONDS = _env_int("IMPORT_RETRY_MAX_SECONDS", 60, minimum=1)
    # The sweeper puts a row back in the queue when its message has not been picked up, or its
    # worker has recorded no step, for this long.
    IMPORT_QUEUED_DEADLINE_SECONDS = _env_int("IMPORT_QUEUED_DEADLINE_SECONDS", 120, minimum=1)
    IMPORT_SENDING_DEADLINE_SECONDS = _env_int("IMPORT_SENDING_DEADLINE_SECONDS", 200, minimum=1)
    # A row task is killed after this many seconds; a row is only taken from its worker after
    # IMPORT_SENDING_DEADLINE_SECONDS without progress, which must leave a margin above it.
    IMPORT_ROW_TIME_LIMIT = _env_int("IMPORT_ROW_TIME_LIMIT", 180, minimum=2)
    _margin = max(2, IMPORT_ROW_TIME_LIMIT // 10)
    if IMPORT_ROW_TIME_LIMIT + _margin > IMPORT_SENDING_DEADLINE_SECONDS:
        raise _ConfigError(
            f"IMPORT_SENDING_DEADLINE_SECONDS ({IMPORT_SENDING_DEADLINE_SECONDS}) must be at least "
            f"IMPORT_ROW_TIME_LIMIT ({IMPORT_ROW_TIME_LIMIT}) + {_margin} seconds, or a row "
            "still being sent could be given to a second worker."
        )
    # A row task waits at most this long for a rate-limit slot, then hands its row back.
    IMPORT_SLOT_WAIT_SECONDS = _env_int("IMPORT_SLOT_WAIT_SECONDS", 5, minimum=1)
    # How often beat sends the rows whose wait (a retry, a back-off) is over.
    IMPORT_DISPATCH_SECONDS = _env_int("IMPORT_DISPATCH_SECONDS", 1, minimum=1)
    IMPORT_SWEEP_SECONDS = _env_int("IMPORT_SWEEP_SECONDS", 30, minimum=1)
    # How often beat sends the scheduled fires' attempts and wrap-ups that are due.
    SCHEDULE_SWEEP_SECONDS = _env_int("SCHEDULE_SWEEP_SECONDS", 60, minimum=1)
    # Whether company admins' schedules may reach the service's own network (loopback, private,
    # link-local addresses). Operators' schedules, set in the admin, always may.
    SCHEDULE_PRIVATE_HOSTS = _env_bool("SCHEDULE_PRIVATE_HOSTS", False)
    IMPORT_PLAN_TIME_LIMIT = 3600
    # Early writes: an import's updates start while the directory is still being read (the
    # rows whose answer the pages still to come cannot change), for files up to this many rows.
    IMPORT_EARLY_WRITES = _env_bool("IMPORT_EARLY_WRITES", True)
    IMPORT_EARLY_MAX_ROWS = _env_int("IMPORT_EARLY_MAX_ROWS", 50000, minimum=0)
    # Where the shared rate limiter keeps its state in Redis (per credential below it).
    RATE_LIMIT_REDIS_PREFIX = _env("RATE_LIMIT_REDIS_PREFIX", "user2smart:ratelimit")
    IMPORT_KEEP_FAILED_ROWS_DAYS = _env_int("IMPORT_KEEP_FAILED_ROWS_DAYS", 7, minimum=0)
    # Runs (their rows and logs) older than this are deleted: the audit's retention.
    IMPORT_KEEP_RUNS_DAYS = _env_int("IMPORT_KEEP_RUNS_DAYS", 400, minimum=1)
    # A user's full record in the directory mirror is trusted this long after it was read;
    # older copies are read again when a run or an export next needs them.
    DIRECTORY_MIRROR_MAX_AGE_DAYS = _env_int("DIRECTORY_MIRROR_MAX_AGE_DAYS", 7, minimum=1)
    # Every call to SmartRecruiters: seconds to connect, and to wait for an answer.
    SMARTRECRUITERS_CONNECT_TIMEOUT = _env_int("SMARTRECRUITERS_CONNECT_TIMEOUT", 5, minimum=1)
    SMARTRECRUITERS_READ_TIMEOUT = _env_int("SMARTRECRUITERS_READ_TIMEOUT", 60, minimum=1)
    SMARTRECRUITERS_SIGNIN_CLIENT_ID = _env("SMARTRECRUITERS_SIGNIN_CLIENT_ID")
    SMARTRECRUITERS_SIGNIN_CLIENT_SECRET = _env("SMARTRECRUITERS_SIGNIN_CLIENT_SECRET")
    SMARTRECRUITERS_SIGNIN_URL = _env(
        "SMARTRECRUITERS_SIGNIN_URL", "https://www.smartrecruiters.com"
    )
    if SMARTRECRUITERS_SIGNIN_CLIENT_ID and not SMARTRECRUITERS_SIGNIN_CLIENT_SECRET:
        raise _ConfigError(
            "SMARTRECRUITERS_SIGNIN_CLIENT_SECRET is required with "
            "SMARTRECRUITERS_SIGNIN_CLIENT_ID."
        )
    LOG_LEVEL = _env("LOG_LEVEL", "INFO").upper()
    if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise _ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {LOG_LEVEL!r}.")
except _ConfigError as _error:
    sys.exit(f"User2Smart configuration error: {_error}")

USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en-us"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "user2smart.companies",
    "imports",
    "scheduler",
]

MIDDLEWARE = [
    # Outermost: a server error answers the friendly page, never a traceback (DEBUG or not).
    "user2smart.errorpages.FriendlyErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "signin"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "signin"

# Sign-in throttling (django-axes): 5 failures for one user name from one address lock that
# pair out for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "user2smart",
        "TIMEOUT": 300,
    }
}

ROOT_URLCONF = "user2smart.urls"
WSGI_APPLICATION = "user2smart.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "user2smart" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "user2smart.companies.access.layout_context",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "user2smart" / "static"]
STORAGES = {
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

if not DEBUG:
    SESSION_COOKIE_SECURE = _env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Celery -------------------------------------------------------------------------------------
# Messages are nudges, not the truth: the database says what is left to do, and a sweeper puts
# lost work back in the queue. No message has a countdown (a worker holding one dies when Redis
# restarts, a kombu fault); every time limit stays far below the visibility timeout.
CELERY_BROKER_URL = REDIS_URL
# kombu's Redis transport without the restore on close that made a worker exit when Redis
# restarted (user2smart/broker.py).
CELERY_BROKER_TRANSPORT = "user2smart.broker:Transport"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis transport: a message delivered to a worker and not acknowledged within this many
    # seconds is delivered again. Every task's hard time limit is far below it, and no message
    # has a countdown or an ETA (work that waits is kept in the database); the database
    # sweeper, not redelivery, recovers lost rows.
    "visibility_timeout": 1800,
}
# Celery's Django fix-up closes the database connection around every task unless this is set;
# a row task then pays for a new PostgreSQL connection each time. Connections are kept (and
# recycled after this many tasks), within CONN_MAX_AGE and its health checks.
CELERY_DB_REUSE_MAX = 500
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = False
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_CRON_STARTING_DEADLINE = 3600
DJANGO_CELERY_BEAT_TZ_AWARE = True
CELERY_BEAT_SCHEDULE = {
    "imports-dispatch": {"task": "imports.dispatch", "schedule": float(IMPORT_DISPATCH_SECONDS)},
    "imports-sweep": {"task": "imports.sweep", "schedule": float(IMPORT_SWEEP_SECONDS)},
    "imports-purge-expired": {"task": "imports.purge_expired", "schedule": 3600.0},
    "scheduler-sweep": {"task": "scheduler.sweep", "schedule": float(SCHEDULE_SWEEP_SECONDS)},
}

# --- Logging ------------------------------------------------------------------------------------
# Django's logging configures Celery's too (CELERY_WORKER_HIJACK_ROOT_LOGGER = False).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(processName)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"level": "INFO"},
        "celery": {"level": "INFO"},
        "urllib3": {"level": "WARNING"},
        "paramiko": {"level": "WARNING"},
    },
}
