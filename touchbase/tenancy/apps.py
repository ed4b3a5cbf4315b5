from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "touchbase.tenancy"
    label = "tenancy"
