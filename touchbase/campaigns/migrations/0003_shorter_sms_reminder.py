"""The SMS reminder is reworded to fit one GSM-7 segment with the first-SMS footer, a long
business name and a production link (issue 13). System templates are read-only, so the
old text is replaced only where it is still the shipped one."""

from django.db import migrations

OLD = (
    "Hi {customer_first_name}, a quick review of your {service_type} job would mean "
    "a lot to {business_name}: {review_link}"
)
NEW = (
    "Hi {customer_first_name}, how was your {service_type} job? A review would help "
    "{business_name}: {review_link}"
)


def forward(apps, schema_editor):
    MessageTemplate = apps.get_model("campaigns", "MessageTemplate")
    MessageTemplate.objects.filter(system_key="sms_reminder", body=OLD).update(body=NEW)


def backward(apps, schema_editor):
    MessageTemplate = apps.get_model("campaigns", "MessageTemplate")
    MessageTemplate.objects.filter(system_key="sms_reminder", body=NEW).update(body=OLD)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0002_system_templates_and_presets")]

    operations = [migrations.RunPython(forward, backward)]
