from django import template

from touchbase.branding.services import brand_of

register = template.Library()


@register.simple_tag
def brand_for(business):
    """The business's brand for a customer-facing page (the default look when unset)."""
    return brand_of(business) if business is not None and business.pk else None
