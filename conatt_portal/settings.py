"""Settings for the CONATT portal: one file, read from the environment.

With nothing set it runs the embedded default (a SQLite file, Celery tasks executed in-process, debug on),
so one command shows the whole portal on a laptop. ``CONATT_ENV=production`` turns on every safeguard and
refuses to start with an insecure configuration. Every variable is listed in the README.
"""

import os
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env") if (BASE_DIR / ".env").exists() else None

ENVIRONMENT = env.str("CONATT_ENV", default="development")
if ENVIRONMENT not in {"development", "test", "production"}:
    raise ImproperlyConfigured("CONATT_ENV must be development, test or production.")
PRODUCTION = ENVIRONMENT == "production"

_DEV_SECRET = "insecure-development-key-do-not-use-in-production"  # noqa: S105  (refused in production)
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET)
DEBUG = env.bool("DEBUG", default=not PRODUCTION and ENVIRONMENT != "test")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The pseudonymous person key is an HMAC of the normalised identity document under this secret. It is kept
# apart from SECRET_KEY so that rotating the session key does not break duplicate detection.
PERSON_KEY_SECRET = env.str("PERSON_KEY_SECRET", default="insecure-development-person-key")

if PRODUCTION:
    problems = []
    if DEBUG:
        problems.append("DEBUG must be off")
    if SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        problems.append("SECRET_KEY must be set to a random value of at least 50 characters")
    if PERSON_KEY_SECRET.startswith("insecure") or len(PERSON_KEY_SECRET) < 32:
        problems.append("PERSON_KEY_SECRET must be set to a random value of at least 32 characters")
    if not ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS must name the portal's host names")
    if problems:
        raise ImproperlyConfigured("Refusing to start in production: " + "; ".join(problems) + ".")

INSTALLED_APPS = [
    "conatt_portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "guardian",
    "simple_history",
    "import_export",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",
    "csp",
    "accounts",
    "records",
    "indicators",
    "estimation",
    "operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "conatt_portal.middleware.SpanishFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.middleware.RejectNulBytesMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.RequireTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "accounts.middleware.NoStoreMiddleware",
    "accounts.middleware.CaseNotFoundAuditMiddleware",
    # Axes last, as its documentation asks, so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "conatt_portal.urls"
WSGI_APPLICATION = "conatt_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.access_flags",
            ],
        },
    },
]

# Database: a SQLite file by default; DATABASE_URL (postgres://...) in production and CI.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60 if PRODUCTION else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets report pages read while a recompute writes; the timeout waits out short write locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first, so a locked-out login is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Reads the direct foreign-key object permissions (case sharing) for guardian's admin pages.
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if ENVIRONMENT == "test":
    # Tests create many users; a fast hasher keeps the suite quick. Never used outside tests.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions expire after 30 minutes without activity (every request renews the expiry).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# django-axes: lock the pair (username, address), so one person cannot lock out a whole office that shares
# an address; a spray of addresses against one account is caught by a separate, higher per-account limit.
# Axes 8 has a single failure limit for every lockout parameter set, so the per-account count lives in
# accounts.lockout.PairAndAccountLockoutHandler (see its docstring). CONATT_AXES_USERNAME_FAILURE_LIMIT is
# the portal's own setting, not an axes one.
AXES_HANDLER = "accounts.lockout.PairAndAccountLockoutHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
CONATT_AXES_USERNAME_FAILURE_LIMIT = env.int("AXES_USERNAME_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
# Used by axes to reset the pair's attempts after a successful login at that address.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"
AXES_USERNAME_CALLABLE = "accounts.lockout.username_for_axes"
# The client's address behind PROXY_COUNT reverse proxies that append to X-Forwarded-For (0: the connection's
# address, any X-Forwarded-For ignored). One function reads it for axes, the audit and the API throttle; axes' own
# django-ipware path is not used (see accounts.access.client_ip for why the chain is read from the right).
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
if PROXY_COUNT < 0:
    raise ImproperlyConfigured("PROXY_COUNT must be 0 or the number of reverse proxies in front of the portal.")
AXES_CLIENT_IP_CALLABLE = "accounts.access.client_ip"
# Masked in the request data axes keeps with each attempt and in its log lines.
AXES_SENSITIVE_PARAMETERS = ["username", "password", "otp_token", "csrfmiddlewaretoken"]

# Two-factor: TOTP required for every role that can see identity data (officers and coordinators) and for
# admins (accounts.middleware enforces it). A deployment phasing it in lists fewer roles, e.g.
# TWO_FACTOR_REQUIRED_ROLES=coordinator,admin while officers enrol; TWO_FACTOR_REQUIRED=off turns it off.
OTP_TOTP_ISSUER = env.str("OTP_ISSUER", default="CONATT")
TWO_FACTOR_REQUIRED = env.bool("TWO_FACTOR_REQUIRED", default=True)
TWO_FACTOR_REQUIRED_ROLES = env.list("TWO_FACTOR_REQUIRED_ROLES", default=["officer", "coordinator", "admin"])
_unknown_roles = set(TWO_FACTOR_REQUIRED_ROLES) - {"officer", "coordinator", "analyst", "admin"}
if _unknown_roles:
    raise ImproperlyConfigured(f"TWO_FACTOR_REQUIRED_ROLES: unknown roles {', '.join(sorted(_unknown_roles))}.")

# E-mail: one-time password links and notices to users (accounts.services). EMAIL_URL in django-environ's
# form, e.g. smtp+tls://user:password@mail.example.org:587; the console by default (tests use locmem).
globals().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CONATT <no-reply@localhost>")
# How long a one-time password link (new account, admin's reset) works; it stops working once used.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_LINK_HOURS", default=72) * 3600
# Requests for a case outside the user's access (404) are logged as failed access, at most this many per user
# per window, so a scan of ids cannot flood the audit (accounts.access.log_case_not_found).
CASE_NOT_FOUND_LOG_LIMIT = env.int("CASE_NOT_FOUND_LOG_LIMIT", default=20)
CASE_NOT_FOUND_LOG_WINDOW_SECONDS = env.int("CASE_NOT_FOUND_LOG_WINDOW_SECONDS", default=600)

# Internationalisation: Spanish first, English available.
LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="America/Costa_Rica")
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Country-specific facts are settings, so a partner country can run the portal with its own reference data.
PORTAL_COUNTRY = env.str("PORTAL_COUNTRY", default="CR")
HOLIDAY_COUNTRY = env.str("HOLIDAY_COUNTRY", default=PORTAL_COUNTRY)
# Which kinds of holiday (categories of the ``holidays`` package for HOLIDAY_COUNTRY) stop the decision clock.
# Costa Rica: "public" (compulsory pay) and "optional" (non-compulsory pay: 2 Aug, 31 Aug, 1 Dec); the public
# service, the ERI included, closes on both, so both count by default (records.deadlines).
HOLIDAY_CATEGORIES = env.list("HOLIDAY_CATEGORIES", default=["public", "optional"])
DECISION_DEADLINE_BUSINESS_DAYS = env.int("DECISION_DEADLINE_BUSINESS_DAYS", default=7)
DEADLINE_DUE_SOON_BUSINESS_DAYS = env.int("DEADLINE_DUE_SOON_BUSINESS_DAYS", default=2)
# Whether the decision clock stops while the ERI waits for information requested from the institution.
DEADLINE_PAUSES_ON_INFORMATION_REQUEST = env.bool("DEADLINE_PAUSES_ON_INFORMATION_REQUEST", default=True)

# Statistical disclosure control (indicators.disclosure, the cell key method): every figure for people not
# entitled to records is perturbed by at most DISCLOSURE_MAX_DEVIATION, with variance DISCLOSURE_VARIANCE; a
# perturbed value from 1 to k-1 is shown as "<k". Published in docs/SECURITY.md; the record keys are the secret.
# D is 6, not 4: the variance keeps almost every figure within 2 of its count, but an attacker must allow each
# figure the whole range, and with D = 4 a linear program pinned a hidden count in one release of ten.
DISCLOSURE_K = env.int("DISCLOSURE_K", default=5)
DISCLOSURE_MAX_DEVIATION = env.int("DISCLOSURE_MAX_DEVIATION", default=6)
DISCLOSURE_VARIANCE = env.float("DISCLOSURE_VARIANCE", default=1.0)
DISCLOSURE_K_PUBLIC = env.int("DISCLOSURE_K_PUBLIC", default=10)

STATIC_URL = "static/"
# Where collectstatic gathers the static files that whitenoise serves when DEBUG is off (production, tests
# against a real gunicorn, which collect into a temporary directory).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
# Files up to this size are checked and written within the request; larger ones run outside it (a Celery
# worker, or in the embedded mode a runner process of their own), with a progress bar.
IMPORT_SYNC_MAX_BYTES = env.int("IMPORT_SYNC_MAX_BYTES", default=512 * 1024)
# A running import (or estimation run) whose heartbeat is older than this is taken for dead (its process killed):
# the sweep marks it failed (and deletes an import's file). Longer than any pause between two chunks, including
# waiting for another import of the same institution.
IMPORT_HEARTBEAT_MINUTES = env.int("IMPORT_HEARTBEAT_MINUTES", default=15)


def _date_setting(name: str, default: str) -> date:
    try:
        return date.fromisoformat(env.str(name, default=default))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a date written yyyy-mm-dd.") from None


# An imported date of receipt, decision or resolution before this day is implausible, so it is a row error rather
# than a record: the year 2016 typed alone in a date cell is the spreadsheet's serial day 2016, 08/07/1905.
IMPORT_DATE_FLOOR = _date_setting("IMPORT_DATE_FLOOR", "1950-01-01")
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Celery: REDIS_URL switches to a real broker; without it tasks run in-process (embedded default).
REDIS_URL = env.str("REDIS_URL", default="")
# Where long jobs (large imports, estimation runs) run: "celery" (a worker, needs the broker) or "process" (a
# runner process started by the web process, for the embedded mode without a broker, so no request holds a web
# worker for minutes; conatt_portal.runners).
IMPORT_RUNNER = env.str("IMPORT_RUNNER", default="celery" if REDIS_URL else "process")
if IMPORT_RUNNER not in {"celery", "process"}:
    raise ImproperlyConfigured("IMPORT_RUNNER must be celery or process.")


def _test_redis_url(url: str, *, cache: bool) -> str:
    """Tests: each pytest-xdist worker has two Redis databases of its own, counted down from REDIS_URL's (modulo
    16): worker gwN's broker is database d - 2N and its cache d - 2N - 1 (gw0, or a run without xdist: d and
    d - 1). Tests clear the cache (FLUSHDB), which would otherwise wipe the other worker's throttle counts and the
    queued tasks of the broker sharing the database; and a Celery worker that one test starts consumes whatever
    its broker holds, so a shared broker would run the other xdist worker's tasks on this worker's database."""
    parts = urlsplit(url)
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base - 2 * worker - int(cache)) % 16}"))


CELERY_BROKER_URL = (
    (_test_redis_url(REDIS_URL, cache=False) if ENVIRONMENT == "test" else REDIS_URL) if REDIS_URL else "memory://"
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers a message left unacknowledged (its worker killed mid-task) after the visibility timeout; it
# must exceed the longest task, or a task still running is delivered a second time (harmless, the tasks are
# idempotent and recomputes take a lock, but wasted).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2, "socket_timeout": 5}
# Explicit because Celery 6 turns it on: when the broker connection is lost, a running task is NOT cancelled. A
# recompute or an import does not need the broker to finish its transaction, so it completes; its message could
# not be acknowledged and may run again later, which the tasks allow (idempotent). Cancelling would throw the
# work away and, with a Redis that lost its messages, leave it to the periodic sweep.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Fault tests only (tests/test_security_faults.py): a file whose presence makes the indicator build wait
# before its commit (indicators.recompute.seam). Never honoured in production.
TEST_RECOMPUTE_PAUSE_FILE = "" if PRODUCTION else env.str("CONATT_TEST_RECOMPUTE_PAUSE_FILE", default="")
# Fault tests only (tests/test_import_runner.py): the same for an import's first heartbeat
# (records.imports.heartbeat._pause_for_fault_tests). Never honoured in production.
TEST_IMPORT_PAUSE_FILE = "" if PRODUCTION else env.str("CONATT_TEST_IMPORT_PAUSE_FILE", default="")
# Indicators, PostgreSQL: how many database connections a full rebuild writes its cells with (the facts are
# committed first, the new version becomes current once every connection has committed). One per core the
# database may spend on it; 1 keeps the whole rebuild in a single transaction.
INDICATORS_BUILD_CONNECTIONS = env.int("INDICATORS_BUILD_CONNECTIONS", default=2)
# Indicators: seconds a burst of record changes waits before its one recompute task runs (the debounce).
INDICATORS_DEBOUNCE_SECONDS = env.int("INDICATORS_DEBOUNCE_SECONDS", default=5)
# Indicators, PostgreSQL: work_mem of the build's own transactions, so the cell passes' hash tables stay in memory.
INDICATORS_WORK_MEM = env.str("INDICATORS_WORK_MEM", default="128MB")
# Indicators: a nightly full rebuild (it also refreshes "overdue" and "pending", which move with the date) and a
# frequent sweep of the outbox, which catches years whose task could not be queued (broker down).
CELERY_BEAT_SCHEDULE = {
    "indicators-full-rebuild": {
        "task": "indicators.tasks.recompute_full",
        "schedule": crontab(
            hour=env.int("INDICATORS_REBUILD_HOUR", default=2), minute=env.int("INDICATORS_REBUILD_MINUTE", default=30)
        ),
        "kwargs": {"trigger": "beat-nightly"},
    },
    "indicators-sweep-pending": {
        "task": "indicators.tasks.recompute_pending",
        "schedule": env.float("INDICATORS_SWEEP_SECONDS", default=60.0),
        "kwargs": {"trigger": "beat-sweep"},
    },
    # Imports: fail running jobs whose worker died, and delete their files (they hold identity data); daily, close
    # jobs left waiting for confirmation.
    "imports-sweep-dead-runs": {"task": "records.imports.sweep", "schedule": 300.0},
    "imports-expire-stale-jobs": {"task": "records.imports.expire", "schedule": crontab(hour=3, minute=15)},
}


CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _test_redis_url(REDIS_URL, cache=True) if ENVIRONMENT == "test" else REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

REST_FRAMEWORK = {
    # Token first: a request without credentials then gets 401 with "WWW-Authenticate: Token".
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON in (file uploads declare their own parser); nested identity data has no form-encoded shape.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "conatt_portal.api_pagination.PortalPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.throttling.PerUserThrottle",
        "accounts.throttling.PerTokenThrottle",
        "accounts.throttling.AnonymousThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="1000/hour"),
        "token": env.str("API_THROTTLE_TOKEN", default="600/hour"),
        "anon": env.str("API_THROTTLE_ANON", default="60/hour"),
    },
}
# Personal API tokens expire at most this many days after they are made (accounts.tokens).
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=365)
SPECTACULAR_SETTINGS = {
    "TITLE": "CONATT portal API",
    "DESCRIPTION": (
        "Registros (limitados a la institución de quien consulta) e indicadores (agregados bajo control de "
        "divulgación estadística). Autenticación: sesión del portal o token personal "
        "(`Authorization: Token <clave>`). Esquema en español con `?lang=es`, en inglés con `?lang=en`.\n\n"
        "Records (scoped to the user's institution) and indicators (aggregates under statistical disclosure "
        "control). Authentication: the portal session or a personal token (`Authorization: Token <key>`). "
        "Schema in Spanish with `?lang=es`, in English with `?lang=en`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its documentation are for users with a role, like every other API answer.
    "SERVE_PERMISSIONS": ["accounts.api.permissions.HasAnyRole"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "conatt_portal.api_schema.document_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ApplicationStatusEnum": "records.models.Status",
        "DecisionOutcomeEnum": "records.models.Decision.Outcome",
    },
}

# Content Security Policy (django-csp 4): no inline scripts, everything served from this origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Turn off behind a proxy that terminates TLS and redirects itself.
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logging never carries identity data: views log ids and actions only (see docs/SECURITY.md).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # WeasyPrint (the annual report's PDF) logs every layout step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Request errors would print the request (URL, POST data); the portal's own handlers log ids only.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
