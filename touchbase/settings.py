"""Settings, read from the environment (12-factor).

The embedded default needs no configuration at all: a SQLite file under ./var/, console
email and SMS backends in development. `DATABASE_URL=postgres://...` switches to PostgreSQL.
"""

import os
import secrets
from pathlib import Path

import dj_database_url

from touchbase.env import env, envbool, envchoice, envint, envlist, persistent_secret
from touchbase.logs import logging_config

VAR_DIR = Path(env("TOUCHBASE_VAR_DIR", os.path.join(os.getcwd(), "var"))).resolve()

DEBUG = envbool("TOUCHBASE_DEBUG", False)
# With debug off, `serve`, `up` and the WSGI app refuse to start unless these two were set
# explicitly (touchbase/ops/production.py): a generated key and localhost-only hosts are
# for a laptop, never for an install the internet can reach.
TOUCHBASE_EXPLICIT_SETTINGS = {
    "TOUCHBASE_SECRET_KEY": bool(env("TOUCHBASE_SECRET_KEY")),
    "TOUCHBASE_ALLOWED_HOSTS": bool(env("TOUCHBASE_ALLOWED_HOSTS").strip()),
}
SECRET_KEY = env("TOUCHBASE_SECRET_KEY") or persistent_secret(VAR_DIR / "secret_key")
ALLOWED_HOSTS = envlist("TOUCHBASE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("TOUCHBASE_CSRF_TRUSTED_ORIGINS", [])
# The public base URL used in links that leave touchbase (review and unsubscribe links).
PUBLIC_BASE_URL = env("TOUCHBASE_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- secure by configuration -----------------------------------------------------------------
# An https public URL switches every transport-security setting on; each has its own variable
# for the install that needs otherwise (e.g. TLS ends at a proxy that already redirects).
HTTPS = PUBLIC_BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = envbool("TOUCHBASE_SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = envbool("TOUCHBASE_CSRF_COOKIE_SECURE", HTTPS)
SECURE_SSL_REDIRECT = envbool("TOUCHBASE_SSL_REDIRECT", HTTPS)
# Probes (load balancer, Prometheus) often speak plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = envint("TOUCHBASE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("TOUCHBASE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = envbool("TOUCHBASE_HSTS_PRELOAD", HTTPS)
# X-Forwarded-Proto is believed only when a proxy is declared in front of touchbase (it would
# otherwise let any client claim https).
TOUCHBASE_TRUSTED_PROXY_HOPS = envint("TOUCHBASE_TRUSTED_PROXY_HOPS", 0, minimum=0)
if envbool("TOUCHBASE_PROXY_SSL_HEADER", HTTPS and TOUCHBASE_TRUSTED_PROXY_HOPS > 0):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# django-csp: scripts and styles only from touchbase itself, never inline script. Inline
# style *attributes* remain in a few templates (style-src-attr); no inline <style> element.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# Browser features touchbase never uses, refused for every page (touchbase/web/security.py).
TOUCHBASE_PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "anymail",
    "touchbase.tenancy",
    "touchbase.customers",
    "touchbase.jobs",
    "touchbase.campaigns",
    "touchbase.delivery",
    "touchbase.inbound",
    "touchbase.web",
    "touchbase.ops",
    "touchbase.branding",
    "ninja",  # serves the API docs page from its own static files, never a CDN
    "touchbase.api",
    "touchbase.imports",
    "touchbase.intake",
    "touchbase.webhooks",
    "touchbase.digest",
    "touchbase.insights",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (hashed, compressed) straight from the app server: no extra web server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "touchbase.web.security.PermissionsPolicyMiddleware",
    "touchbase.api.middleware.ApiBodyLimitMiddleware",
    # Before sessions and views: a flood on the public links and webhooks stops here.
    "touchbase.inbound.ratelimit.PublicRateLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "touchbase.urls"
WSGI_APPLICATION = "touchbase.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "touchbase.web.context.current_business",
                "touchbase.web.context.sms_limits",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'touchbase.sqlite3'}"),
        conn_max_age=envint("TOUCHBASE_DB_CONN_MAX_AGE", 60, minimum=0),
    )
}
# Behind PgBouncer in transaction pooling mode each transaction may run on another server
# connection: no server-side cursors (they live across transactions) and no prepared
# statements (PgBouncer before 1.21 cannot route them). touchbase keeps no other session
# state: no advisory locks, no SET except Django's own time zone (always UTC), and LISTEN only
# on TOUCHBASE_DB_LISTEN_URL below.
TOUCHBASE_DB_TRANSACTION_POOLING = envbool("TOUCHBASE_DB_TRANSACTION_POOLING", False)
if TOUCHBASE_DB_TRANSACTION_POOLING and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
# Idle workers LISTEN for touches falling due (delivery/wakeup.py) on a connection of their
# own. Through PgBouncer's transaction pooling LISTEN does not reach them: give a direct URL
# here, or they keep the timed sleep (TOUCHBASE_WORKER_IDLE_SECONDS).
# Empty: the default database, unless TOUCHBASE_DB_TRANSACTION_POOLING is on.
TOUCHBASE_DB_LISTEN_URL = env("TOUCHBASE_DB_LISTEN_URL", "")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # Web app and worker are two processes on one file: WAL lets readers run beside the
        # writer, IMMEDIATE takes the write lock at BEGIN so two writers queue instead of
        # failing half-way with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "tenancy.User"
# Log-in throttled per account and per address (touchbase/tenancy/throttles.py).
AUTHENTICATION_BACKENDS = ["touchbase.tenancy.auth.ThrottledModelBackend"]
# `closed`: accounts come only from `touchbase createowner` and invitations.
TOUCHBASE_SIGNUP = envchoice("TOUCHBASE_SIGNUP", "closed", ("open", "closed"))
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Customers are written to in English or Spanish (touchbase/languages.py); pages they see
# switch language for them alone, the owner's app stays English (no LocaleMiddleware).
# The catalogue is locale/es/LC_MESSAGES/django.po, compiled by make (compilemessages).
LANGUAGES = [("en", "English"), ("es", "Spanish")]
LOCALE_PATHS = [Path(__file__).resolve().parent.parent / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Front-end packages come from npm (`npm ci` in `make up`/`make test`), never from git or a
# CDN: Django's staticfiles serves them straight out of node_modules under vendor/.
NODE_MODULES = Path(
    env("TOUCHBASE_NODE_MODULES", str(Path(__file__).resolve().parent.parent / "node_modules"))
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # `touchbase serve` collects into STATIC_ROOT with hashed names and gzip/brotli copies.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
STATICFILES_DIRS = [
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/chartjs", NODE_MODULES / "chart.js" / "dist"),
]

# Phone numbers typed without a country code are read as numbers of this region.
TOUCHBASE_DEFAULT_PHONE_REGION = env("TOUCHBASE_DEFAULT_PHONE_REGION", "US")

# Inbound events (tracked links, webhooks). Twilio webhooks are accepted only with a valid
# X-Twilio-Signature made with TOUCHBASE_TWILIO["auth_token"] (below); without a token every
# Twilio webhook is refused.
# Email provider webhooks (/hooks/email/<esp>/tracking/) need HTTP basic auth "user:password".
# Unset: a random secret nobody knows, so every call is refused rather than open to anyone.
ANYMAIL = {
    "WEBHOOK_SECRET": env("TOUCHBASE_EMAIL_WEBHOOK_SECRET") or f"unset:{secrets.token_urlsafe(24)}",
}
# Requests per minute from one client address to the public links (/r/ /u/ /f/) and to the
# webhooks (/hooks/...). Behind N reverse proxies set TOUCHBASE_TRUSTED_PROXY_HOPS=N so the
# client is read from X-Forwarded-For.
TOUCHBASE_RATE_LIMITS = {
    "links": envint("TOUCHBASE_RATE_LIMIT_LINKS", 60, minimum=1),
    "hooks": envint("TOUCHBASE_RATE_LIMIT_HOOKS", 600, minimum=1),
}

LOGGING = logging_config(env("TOUCHBASE_LOG_FORMAT", "plain"), env("TOUCHBASE_LOG_LEVEL", "INFO"))

# --- operations ------------------------------------------------------------------------------
# /metrics answers only with `Authorization: Bearer <token>` when a token is set.
TOUCHBASE_METRICS_TOKEN = env("TOUCHBASE_METRICS_TOKEN")
TOUCHBASE_HEALTH = {
    # /healthz answers 503 when no worker has reported for this long.
    "worker_silence_seconds": envint("TOUCHBASE_HEALTH_WORKER_SILENCE_SECONDS", 45, minimum=1),
    # ... or when the oldest due touch has waited this long (0: never).
    "backlog_age_seconds": envint("TOUCHBASE_HEALTH_BACKLOG_AGE_SECONDS", 900, minimum=0),
}

# --- sending ---------------------------------------------------------------------------------
# Email: Django's framework. SMTP by default; any django-anymail ESP by naming its backend
# (e.g. anymail.backends.postmark.EmailBackend + ANYMAIL settings); "console" for development.
_EMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
EMAIL_BACKEND = _EMAIL_BACKENDS.get(
    env("TOUCHBASE_EMAIL_BACKEND", "smtp"), env("TOUCHBASE_EMAIL_BACKEND", "smtp")
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 15, minimum=1)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "reviews@touchbase.localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# SMS: "twilio", "console", "memory" or a dotted path to a Transport class. Twilio is the
# default as soon as its credentials are set.
TOUCHBASE_TWILIO = {
    "account_sid": env("TWILIO_ACCOUNT_SID"),
    "auth_token": env("TWILIO_AUTH_TOKEN"),
    "messaging_service_sid": env("TWILIO_MESSAGING_SERVICE_SID"),
    "from_number": env("TWILIO_FROM_NUMBER"),
    "status_callback_url": f"{PUBLIC_BASE_URL}/hooks/twilio/status",
    "timeout": envint("TWILIO_TIMEOUT_SECONDS", 10, minimum=1),
    # Only for a regional proxy or a local stand-in of the Messages API.
    "api_base_url": env("TWILIO_API_BASE_URL"),
}
# True when the account's Advanced Opt-Out confirms every opt-out word itself (the Spanish
# ones and REMOVE too): touchbase then sends no opt-out confirmation at all (otherwise it
# confirms the words outside Twilio's default list, inbound/keywords.py).
TOUCHBASE_TWILIO_ADVANCED_OPT_OUT = envbool("TOUCHBASE_TWILIO_ADVANCED_OPT_OUT", False)
TOUCHBASE_SMS_BACKEND = env(
    "TOUCHBASE_SMS_BACKEND", "twilio" if TOUCHBASE_TWILIO["account_sid"] else "console"
)

# --- worker ----------------------------------------------------------------------------------
TOUCHBASE_WORKER = {
    "batch_size": envint("TOUCHBASE_WORKER_BATCH_SIZE", 200, minimum=1),
    # Provider calls in flight (awaited on one event loop, calls.py) plus answers not yet
    # written: 128 keeps a 50 ms provider at over 1,000 sends a second; a kill leaves at most
    # this many `uncertain`.
    "concurrency": envint("TOUCHBASE_WORKER_CONCURRENCY", 128, minimum=1),
    # Must outlast a batch's provider calls: batch_size / concurrency x provider timeout
    # (200 / 128 x 10 s = 16 s by default) is the floor.
    "lease_seconds": envint("TOUCHBASE_WORKER_LEASE_SECONDS", 300, minimum=2),
    "idle_seconds": envint("TOUCHBASE_WORKER_IDLE_SECONDS", 5, minimum=1),
    # Deferred touches reopen spread over the first minutes of the window, not all at 09:00.
    "window_spread_minutes": envint("TOUCHBASE_SEND_WINDOW_SPREAD_MINUTES", 30, minimum=0),
}

# --- HTTP API --------------------------------------------------------------------------------
# Per key, per process (see touchbase/api/ratelimit.py): N web processes allow N x this.
TOUCHBASE_API_RATE_LIMIT = {
    "requests": envint("TOUCHBASE_API_RATE_LIMIT", 600, minimum=1),
    "period_seconds": envint("TOUCHBASE_API_RATE_PERIOD_SECONDS", 60, minimum=1),
}
TOUCHBASE_API_MAX_BODY_BYTES = envint("TOUCHBASE_API_MAX_BODY_BYTES", 256 * 1024, minimum=1024)

# Outbound webhooks (touchbase/webhooks/). Private, loopback, link-local and metadata
# addresses are refused unless the operator allows them; plain http only then or in debug.
TOUCHBASE_WEBHOOKS = {
    "allow_private": envbool("TOUCHBASE_WEBHOOKS_ALLOW_PRIVATE", False),
    "timeout_seconds": envint("TOUCHBASE_WEBHOOKS_TIMEOUT_SECONDS", 5, minimum=1),
    "per_pass": envint("TOUCHBASE_WEBHOOKS_PER_PASS", 50, minimum=1),
    "concurrency": envint("TOUCHBASE_WEBHOOKS_CONCURRENCY", 8, minimum=1),
}
