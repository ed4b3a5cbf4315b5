"""The campaign page's pending touches (the funnel's "waiting" and the upcoming sends per
day, one grouped read) join the business's pending deliveries to the campaign's live
enrollments. With both sides in enrollment order, PostgreSQL merges two Index Only Scans
instead of hashing 33,000 ids (bench: 37 ms -> 23 ms); the live enrollments' index with the
status included also makes the page's counts per live status index-only."""

from django.db import migrations

INDEXES = [
    (
        "web_delivery_pending_enrollment",
        "delivery_delivery (business_id, enrollment_id) {include:position, send_after} "
        "WHERE status = 'pending'",
    ),
    (
        "web_enrollment_live_id",
        "campaigns_enrollment (campaign_id, id) {include:status} "
        "WHERE status IN ('active', 'frozen')",
    ),
]


def create(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, template in INDEXES:
        head, _, rest = template.partition("{include:")
        columns, _, tail = rest.partition("}")
        on = f"{head}{f'INCLUDE ({columns})' if postgres else ''}{tail}"
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {on}")


def drop(apps, schema_editor):
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("web", "0003_drop_funnel_index")]

    operations = [migrations.RunPython(create, drop)]
