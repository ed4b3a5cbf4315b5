from django.apps import AppConfig


class InboundConfig(AppConfig):
    name = "touchbase.inbound"
    label = "inbound"

    def ready(self) -> None:
        from anymail.signals import tracking

        from touchbase.inbound.email_hooks import on_tracking_event

        tracking.connect(on_tracking_event, dispatch_uid="touchbase.inbound.email_events")
