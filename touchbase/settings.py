"""Settings, read from the environment (12-factor).

The embedded default needs no configuration at all: a SQLite file under ./var/, console
email and SMS backends in development. `DATABASE_URL=postgres://...` switches to PostgreSQL.
"""

import os
import secrets
from pathlib import Path

import dj_database_url

from touchbase.env import env, envbool, envint, envlist, persistent_secret

VAR_DIR = Path(env("TOUCHBASE_VAR_DIR", os.path.join(os.getcwd(), "var"))).resolve()

DEBUG = envbool("TOUCHBASE_DEBUG", False)
SECRET_KEY = env("TOUCHBASE_SECRET_KEY") or persistent_secret(VAR_DIR / "secret_key")
ALLOWED_HOSTS = envlist("TOUCHBASE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("TOUCHBASE_CSRF_TRUSTED_ORIGINS", [])
# The public base URL used in links that leave touchbase (review and unsubscribe links).
PUBLIC_BASE_URL = env("TOUCHBASE_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "anymail",
    "touchbase.tenancy",
    "touchbase.customers",
    "touchbase.jobs",
    "touchbase.campaigns",
    "touchbase.delivery",
    "touchbase.inbound",
    "touchbase.web",
    "touchbase.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# Phone numbers typed without a country code are read as numbers of this region.
TOUCHBASE_DEFAULT_PHONE_REGION = env("TOUCHBASE_DEFAULT_PHONE_REGION", "US")

# Inbound events (tracked links, webhooks). Twilio webhooks are accepted only with a valid
# X-Twilio-Signature made with this auth token; without one every Twilio webhook is refused.
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN")
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
TOUCHBASE_TRUSTED_PROXY_HOPS = envint("TOUCHBASE_TRUSTED_PROXY_HOPS", 0, minimum=0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("TOUCHBASE_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
