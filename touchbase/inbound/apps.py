from django.apps import AppConfig


class InboundConfig(AppConfig):
    name = "touchbase.inbound"
    label = "inbound"
