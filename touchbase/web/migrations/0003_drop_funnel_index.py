"""The funnel reads the daily counts of touchbase/insights now, not the deliveries of a
period: 0002's web_delivery_funnel serves no page any more and only cost every write to the
delivery table (the API's date filter has delivery_business_recent)."""

from django.db import migrations



def drop(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS web_delivery_funnel")


def create(apps, schema_editor):
    include = (
        "INCLUDE (enrollment_id, position, status, receipt_status)"
        if schema_editor.connection.vendor == "postgresql"
        else ""
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS web_delivery_funnel ON delivery_delivery "
        f"(business_id, scheduled_at) {include}"
    )


class Migration(migrations.Migration):
    dependencies = [("web", "0002_index_only_counts"), ("insights", "0001_daily_counts")]

    operations = [migrations.RunPython(drop, create)]
