from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "touchbase.insights"
    label = "insights"
    verbose_name = "Insights (daily counts for the owner's pages)"
    default_auto_field = "django.db.models.BigAutoField"
