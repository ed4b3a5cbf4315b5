from django.apps import AppConfig


class DigestConfig(AppConfig):
    name = "touchbase.digest"
    label = "digest"
    verbose_name = "Owner digests"
    default_auto_field = "django.db.models.BigAutoField"
