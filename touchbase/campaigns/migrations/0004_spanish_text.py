"""Each template gets an optional Spanish subject and text (issue 16); the system templates
ship theirs. The SMS texts keep to GSM-7 (no á í ó ú) so the first SMS with its Spanish
footer still fits one segment; the data is frozen here, as a migration's data should be."""

from django.db import migrations, models

SPANISH = {
    "email_request": (
        "¿Cómo lo hicimos, {customer_first_name}?",
        "Hola {customer_first_name}:\n\n"
        "Gracias por elegir a {business_name}. Si tiene un minuto, una breve reseña de "
        "nuestro trabajo ayuda a sus vecinos a encontrarnos y significa mucho para nuestro "
        "equipo:\n\n{review_link}\n\n"
        "Gracias,\n{sender_name}",
    ),
    "email_reminder": (
        "¿Un pequeño favor, {customer_first_name}?",
        "Hola {customer_first_name}:\n\n"
        "Esperamos que todo siga funcionando bien después de nuestra visita. Si aún no ha "
        "tenido la oportunidad, le agradeceríamos mucho una reseña:\n\n{review_link}\n\n"
        "Toma un minuto. ¡Gracias!\n{sender_name}",
    ),
    "sms_request": (
        "",
        "Hola {customer_first_name}, ¡gracias por elegir a {business_name}! "
        "¿Nos deja una breve reseña? {review_link}",
    ),
    "sms_reminder": (
        "",
        "Hola {customer_first_name}, una breve reseña de su visita nos ayuda mucho en "
        "{business_name}: {review_link}",
    ),
}


def forward(apps, schema_editor):
    MessageTemplate = apps.get_model("campaigns", "MessageTemplate")
    for key, (subject, body) in SPANISH.items():
        MessageTemplate.objects.filter(system_key=key).update(subject_es=subject, body_es=body)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0003_shorter_sms_reminder")]

    operations = [
        migrations.AddField(
            model_name="messagetemplate",
            name="body_es",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.AddField(
            model_name="messagetemplate",
            name="subject_es",
            field=models.CharField(blank=True, db_default="", default="", max_length=200),
        ),
        migrations.AddConstraint(
            model_name="messagetemplate",
            constraint=models.CheckConstraint(
                condition=models.Q(("channel", "email"), ("subject_es", ""), _connector="OR"),
                name="template_sms_has_no_spanish_subject",
            ),
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
