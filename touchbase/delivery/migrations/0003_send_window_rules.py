"""The legal send windows of PRODUCT §8. Data, editable in the admin without a deploy."""

from datetime import time

from django.db import migrations

RULES = [
    ("US", time(8), time(21), False, "Federal floor (TCPA)"),
    ("US-FL", time(8), time(20), False, "Florida Telephone Solicitation Act"),
    ("US-OK", time(8), time(20), False, "Oklahoma Telephone Solicitation Act"),
    ("US-MD", time(8), time(20), False, "Maryland Stop the Spam Calls Act"),
    ("US-MA", time(8), time(20), False, "Massachusetts"),
    ("US-CT", time(9), time(20), False, "Connecticut"),
    ("US-NV", time(9), time(20), False, "Nevada"),
    ("US-KY", time(10), time(21), False, "Kentucky"),
    ("US-AL", time(8), time(21), True, "Alabama: no Sunday sends"),
    ("US-LA", time(8), time(21), True, "Louisiana: no Sunday sends"),
    ("US-MS", time(8), time(21), True, "Mississippi: no Sunday sends"),
]


def create(apps, schema_editor):
    SendWindowRule = apps.get_model("delivery", "SendWindowRule")
    for region, earliest, latest, no_sundays, note in RULES:
        SendWindowRule.objects.create(
            region=region, earliest=earliest, latest=latest, no_sundays=no_sundays, note=note
        )


def remove(apps, schema_editor):
    apps.get_model("delivery", "SendWindowRule").objects.filter(
        region__in=[rule[0] for rule in RULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("delivery", "0002_worker_tables")]
    operations = [migrations.RunPython(create, remove)]
