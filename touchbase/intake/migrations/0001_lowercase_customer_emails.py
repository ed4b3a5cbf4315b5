"""The matching rule compares emails case-insensitively by storing them in lower case
(touchbase.customers.services.normalize_email); bring the rows stored before in line."""

from django.db import migrations
from django.db.models.functions import Lower


def lowercase_emails(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    Customer.objects.exclude(email="").update(email=Lower("email"))


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(lowercase_emails, migrations.RunPython.noop)]
