"""Indexes that let the dashboard's and the campaign page's counts be index-only scans.

Each count reads only index entries (`COUNT(*)` over columns an index holds), bounded by the
page's period, so the pages cost what the period holds, not what the history holds.
PostgreSQL gets the INCLUDE columns; SQLite, the embedded default, only the keys.
"""

from django.db import migrations

INDEXES = [
    # Dashboard: touches due in the next 7 days and the next few; campaign page: upcoming
    # sends per day (joined to live enrollments by enrollment_id).
    (
        "web_delivery_due",
        "delivery_delivery (business_id, send_after) {include:enrollment_id, position} "
        "WHERE status = 'pending'",
    ),
    # Campaign page: the funnel over a period (per touch: sent, delivered, failed, ...).
    (
        "web_delivery_funnel",
        "delivery_delivery (business_id, scheduled_at) "
        "{include:enrollment_id, position, status, receipt_status}",
    ),
    # Campaign page: the funnel's enrollments of a period, counts per status, stop reasons.
    (
        "web_enrollment_campaign",
        "campaigns_enrollment (campaign_id, enrolled_at) {include:id, status, stop_reason}",
    ),
    # Replaces 0001's web_enrollment_live with the id included: the live enrollments of a
    # campaign, newest first, and their ids for the upcoming sends' join.
    (
        "web_enrollment_live",
        "campaigns_enrollment (campaign_id, enrolled_at) {include:id} "
        "WHERE status IN ('active', 'frozen')",
    ),
]


def definition(template: str, postgres: bool) -> str:
    head, _, rest = template.partition("{include:")
    if not rest:
        return template
    columns, _, tail = rest.partition("}")
    return f"{head}{f'INCLUDE ({columns})' if postgres else ''}{tail}"


def create(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    schema_editor.execute("DROP INDEX IF EXISTS web_enrollment_live")
    for name, template in INDEXES:
        on = definition(template, postgres)
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {on}")


def drop(apps, schema_editor):
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS web_enrollment_live ON campaigns_enrollment "
        "(campaign_id, enrolled_at) WHERE status IN ('active', 'frozen')"
    )


class Migration(migrations.Migration):
    dependencies = [("web", "0001_page_indexes")]

    operations = [migrations.RunPython(create, drop)]
