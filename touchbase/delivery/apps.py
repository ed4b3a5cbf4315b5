from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "touchbase.delivery"
    label = "delivery"
