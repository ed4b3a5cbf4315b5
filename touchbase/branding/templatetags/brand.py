from django import template

from touchbase.branding.services import brand_of

register = template.Library()


@register.simple_tag
def brand_for(business):
    """The business's brand for a customer-facing page (the default look when unset)."""
    # Pages without a business (a link that names nothing) get the plain look.
    return brand_of(business) if getattr(business, "pk", None) else None
