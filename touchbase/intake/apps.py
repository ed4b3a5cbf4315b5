from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "touchbase.intake"
    label = "intake"
    verbose_name = "Job intake"
