from datetime import UTC, datetime

import pytest
from django.db import connection

# A Monday afternoon in New York, far from any DST change unless a test moves there.
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


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
