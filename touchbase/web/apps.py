from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "touchbase.web"
    label = "web"
