import importlib
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


# Rows every database has after `migrate` (data migrations): (module, its function, a model
# holding the rows).
DATA_MIGRATIONS = (
    (
        "touchbase.campaigns.migrations.0002_system_templates_and_presets",
        "create",
        "campaigns.Campaign",
    ),
    ("touchbase.delivery.migrations.0003_send_window_rules", "create", "delivery.SendWindowRule"),
    ("touchbase.delivery.migrations.0005_area_code_states", "fill", "delivery.AreaCodeState"),
)


@pytest.fixture
def migration_data(transactional_db):
    """For transactional tests: an earlier one ended by emptying every table (flush), so put
    back the presets, system templates, send-window rules and area codes the data
    migrations create.
    (Safer than serialized_rollback, which collides with the content types a flush's
    post_migrate signal has already re-created.)"""
    from django.apps import apps

    for module, function, model in DATA_MIGRATIONS:
        if not apps.get_model(model).objects.exists():
            getattr(importlib.import_module(module), function)(apps, None)
