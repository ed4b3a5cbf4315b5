from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "touchbase.api"
    label = "api"
    verbose_name = "HTTP API"
