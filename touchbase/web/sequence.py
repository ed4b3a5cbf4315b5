"""How a campaign's sequence is drawn: the first touch waits the business's own timing for
the campaign's service type (Settings), which wins over the touch's delay when set — the
same rule the enrollment engine applies (campaigns/enrollment.py)."""

from touchbase.campaigns.models import Campaign
from touchbase.service_types import ServiceType


def first_delay_label(campaign: Campaign, default_hours: int | None) -> str:
    business = campaign.business
    if default_hours is None:
        return ""
    if campaign.service_type:
        hours = business.touch1_hours_for(campaign.service_type) or default_hours
        return f"after {hours} h"
    overrides = [
        f"{ServiceType(service).label}: {hours} h"
        for service, hours in sorted((business.service_type_timing or {}).items())
    ]
    if overrides:
        return f"after {default_hours} h ({', '.join(overrides)})"
    return f"after {default_hours} h"
