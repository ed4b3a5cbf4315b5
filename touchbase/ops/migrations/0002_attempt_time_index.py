"""An index on provider attempts by time, for /metrics' recent sends and latency (a range scan
of the window instead of the whole send log). On PostgreSQL it covers the columns the scrape
reads, so the scrape is index-only. Kept in ops so the delivery app's migrations stay its own."""

from django.db import migrations


def create(apps, schema_editor):
    include = ""
    if schema_editor.connection.vendor == "postgresql":
        include = "INCLUDE (provider, outcome, error_code, latency_ms)"
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS ops_attempt_started "
        f"ON delivery_deliveryattempt (started_at) {include}"
    )


def drop(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS ops_attempt_started")


class Migration(migrations.Migration):
    dependencies = [("ops", "0001_worker_heartbeat"), ("delivery", "0002_worker_tables")]

    operations = [migrations.RunPython(create, drop)]
