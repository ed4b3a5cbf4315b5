from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "touchbase.customers"
    label = "customers"
