"""The read-only system templates (one request and one reminder per channel) and the three
preset campaigns of PRODUCT §2. The data is frozen here, as a migration's data should be."""

from django.db import migrations

TEMPLATES = {
    "email_request": {
        "name": "Review request (email)",
        "channel": "email",
        "subject": "How did we do, {customer_first_name}?",
        "body": (
            "Hi {customer_first_name},\n\n"
            "Thank you for choosing {business_name}. If you have a minute, a short review of "
            "your {service_type} job helps your neighbours find us and means a lot to our team:"
            "\n\n{review_link}\n\n"
            "Thank you,\n{sender_name}"
        ),
    },
    "email_reminder": {
        "name": "Review reminder (email)",
        "channel": "email",
        "subject": "A quick favour, {customer_first_name}?",
        "body": (
            "Hi {customer_first_name},\n\n"
            "We hope everything is still working well after your {service_type} job. "
            "If you have not had the chance yet, we would be grateful for a review:"
            "\n\n{review_link}\n\n"
            "It takes about a minute. Thank you!\n{sender_name}"
        ),
    },
    "sms_request": {
        "name": "Review request (SMS)",
        "channel": "sms",
        "subject": "",
        "body": (
            "Hi {customer_first_name}, thanks for choosing {business_name}! "
            "Would you leave us a quick review? {review_link}"
        ),
    },
    "sms_reminder": {
        "name": "Review reminder (SMS)",
        "channel": "sms",
        "subject": "",
        "body": (
            "Hi {customer_first_name}, a quick review of your {service_type} job would mean "
            "a lot to {business_name}: {review_link}"
        ),
    },
}

PRESETS = {
    "conservative": (
        "Conservative",
        [("email", 24, "email_request"), ("email", 72, "email_reminder")],
    ),
    "standard": (
        "Standard",
        [("email", 24, "email_request"), ("email", 72, "email_reminder"), ("sms", 168, "sms_request")],
    ),
    "aggressive": (
        "Aggressive",
        [
            ("sms", 4, "sms_request"),
            ("email", 24, "email_request"),
            ("sms", 72, "sms_reminder"),
            ("email", 168, "email_reminder"),
        ],
    ),
}


def create(apps, schema_editor):
    MessageTemplate = apps.get_model("campaigns", "MessageTemplate")
    Campaign = apps.get_model("campaigns", "Campaign")
    Touch = apps.get_model("campaigns", "Touch")
    templates = {
        key: MessageTemplate.objects.create(system_key=key, **fields)
        for key, fields in TEMPLATES.items()
    }
    for key, (name, touches) in PRESETS.items():
        campaign = Campaign.objects.create(preset_key=key, name=name, status="active")
        for position, (channel, delay, template_key) in enumerate(touches, start=1):
            Touch.objects.create(
                campaign=campaign, position=position, channel=channel,
                delay_hours=delay, template=templates[template_key],
            )


def remove(apps, schema_editor):
    apps.get_model("campaigns", "Campaign").objects.filter(business__isnull=True).delete()
    apps.get_model("campaigns", "MessageTemplate").objects.filter(business__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
