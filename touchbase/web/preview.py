"""Sample data for live message previews (the editor fills placeholders with these)."""

from touchbase.delivery.rendering import stop_footer
from touchbase.inbound.links import link_for
from touchbase.service_types import ServiceType
from touchbase.tenancy.models import Business

# A realistic tracked link, so the SMS segment count in the preview is the real one.
SAMPLE_DELIVERY_ID = 123456


def sample_service_label(business: Business, service_type: str | None = None) -> str:
    """The service a preview talks about: the campaign's own, else the business's first."""
    service_type = service_type or next(iter(business.service_types or []), "")
    return ServiceType(service_type).label if service_type else "recent"


def sample_values(business: Business, service_type: str | None = None) -> dict[str, str]:
    return {
        "customer_first_name": "Maria",
        "customer_name": "Maria Lopez",
        "business_name": business.name,
        "review_link": link_for(SAMPLE_DELIVERY_ID, "review"),
        "service_type": sample_service_label(business, service_type),
        "technician_name": "Luis",
        "sender_name": business.sender_name or business.name,
        # For the editor's first-SMS rule (not placeholders):
        "_business_name": business.name,
        "_stop_footer": stop_footer("en"),
        "_stop_footer_es": stop_footer("es"),
    }
