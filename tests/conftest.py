import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

# The processes tests start (`touchbase worker`, `serve`, `up`) run with debug off, as in
# production: they refuse to start without an explicit key and hosts.
os.environ.setdefault("TOUCHBASE_SECRET_KEY", "tests-" + "k" * 60)
os.environ.setdefault("TOUCHBASE_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

# A Monday afternoon in New York, far from any DST change unless a test moves there.
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def pytest_configure(config):
    # Tests render pages without `collectstatic`: unhashed names, files found in the apps.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="PostgreSQL only (set DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def clock(time_machine):
    """Time stands still at START until the test moves it (`clock.shift(timedelta(...))`)."""
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture(autouse=True)
def cheap_password_hasher(settings):
    """Hashing a password the production way takes most of a login test's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
