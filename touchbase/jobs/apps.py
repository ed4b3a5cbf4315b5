from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "touchbase.jobs"
    label = "jobs"
