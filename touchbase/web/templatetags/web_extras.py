from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key) if mapping else None


@register.filter
def words(code: str) -> str:
    """A machine reason (`no_sms_consent`) as words (`no sms consent`)."""
    return (code or "").replace("_", " ")
