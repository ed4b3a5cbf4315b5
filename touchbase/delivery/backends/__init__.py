"""Transports by channel, built once per process from settings."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from touchbase.channels import Channel
from touchbase.delivery.backends.base import Transport


@cache
def transport_for(channel: str) -> Transport:
    if channel == Channel.EMAIL:
        from touchbase.delivery.backends.email import DjangoEmailTransport

        return DjangoEmailTransport()
    backend = settings.TOUCHBASE_SMS_BACKEND
    if backend == "twilio":
        from touchbase.delivery.backends.twilio import TwilioSmsTransport

        return TwilioSmsTransport(**settings.TOUCHBASE_TWILIO)
    if backend == "console":
        from touchbase.delivery.backends.sms import ConsoleSmsTransport

        return ConsoleSmsTransport()
    if backend == "memory":
        from touchbase.delivery.backends.sms import MemorySmsTransport

        return MemorySmsTransport()
    return import_string(backend)()
