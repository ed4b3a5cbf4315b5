from django import template

from touchbase.web import times
from touchbase.web.labels import reason_label

register = template.Library()


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key) if mapping else None


@register.filter
def reason(code: str) -> str:
    """A machine reason (`no_sms_consent`) in the owner's words (`no consent to texts`)."""
    return reason_label(code)


@register.filter
def when(moment) -> str:
    """Mon Mar 2, 2026, 10:00 EST: in the business's zone, zone named."""
    return times.when(moment)


@register.filter
def when_utc(moment) -> str:
    return times.when_utc(moment)


@register.filter
def day(value) -> str:
    return times.day(value)
