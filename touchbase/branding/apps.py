from django.apps import AppConfig


class BrandingConfig(AppConfig):
    name = "touchbase.branding"
    label = "branding"
    verbose_name = "Brand on customer-facing pages"
