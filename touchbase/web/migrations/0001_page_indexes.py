"""Partial indexes for the owner's pages (dashboard, campaign detail), kept in the web app so
the apps that own the tables stay untouched. Each is small: it holds only the rows a page
asks for. PostgreSQL also gets INCLUDE columns so the dashboard's counts are index-only."""

from django.db import migrations

INDEXES = [
    # Dashboard: sent and delivered per day (this week vs last week).
    (
        "web_delivery_sent",
        "delivery_delivery (business_id, sent_at) {include_receipt} WHERE status = 'sent'",
    ),
    # Dashboard: failed and uncertain sends, newest first.
    (
        "web_delivery_attention",
        "delivery_delivery (business_id, updated_at) WHERE status IN ('failed', 'uncertain')",
    ),
    # Dashboard: review clicks per day.
    (
        "web_enrollment_clicked",
        "campaigns_enrollment (business_id, stopped_at) WHERE stop_reason = 'review_clicked'",
    ),
    # Campaign page: the live enrollments, newest first.
    (
        "web_enrollment_live",
        "campaigns_enrollment (campaign_id, enrolled_at) WHERE status IN ('active', 'frozen')",
    ),
    # Dashboard: jobs not enrolled, and why.
    (
        "web_job_not_enrolled",
        "jobs_job (business_id, enrollment_checked_at) "
        "WHERE enrollment_outcome IN ('skipped', 'failed')",
    ),
]


def create(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, definition in INDEXES:
        include = "INCLUDE (receipt_status)" if postgres else ""
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {definition.format(include_receipt=include)}"
        )


def drop(apps, schema_editor):
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0003_send_window_rules"),
        ("jobs", "0001_initial"),
        ("campaigns", "0002_system_templates_and_presets"),
    ]

    operations = [migrations.RunPython(create, drop)]
