from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "touchbase.ops"
    label = "ops"
