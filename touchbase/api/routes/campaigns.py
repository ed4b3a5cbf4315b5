from django.http import HttpRequest
from ninja import Router

from touchbase.api.auth import business_of
from touchbase.api.errors import not_found
from touchbase.api.pagination import Cursor, Limit, paginate
from touchbase.api.schemas import CampaignOut, CampaignPage, ErrorOut, Id
from touchbase.api.selectors import campaigns_of
from touchbase.campaigns.models import Campaign

router = Router(tags=["campaigns"])
ERRORS = {401: ErrorOut, 404: ErrorOut, 413: ErrorOut, 422: ErrorOut, 429: ErrorOut}


def campaign_out(campaign: Campaign) -> dict:
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "service_type": campaign.service_type,
        "status": campaign.status,
        "paused_at": campaign.paused_at,
        "created_at": campaign.created_at,
        "touches": [
            {
                "position": touch.position,
                "channel": touch.channel,
                "delay_hours": touch.delay_hours,
                "template_id": touch.template_id,
                "template_name": touch.template.name,
            }
            for touch in sorted(campaign.touches.all(), key=lambda touch: touch.position)
        ],
    }


@router.get("/campaigns", response={200: CampaignPage, **ERRORS})
def list_campaigns(request: HttpRequest, limit: Limit = 50, cursor: Cursor = None):
    """The business's campaigns with their touches, newest first."""
    page = paginate(campaigns_of(business_of(request)), cursor=cursor, limit=limit)
    return {
        "items": [campaign_out(campaign) for campaign in page["items"]],
        "next_cursor": page["next_cursor"],
    }


@router.get("/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS})
def read(request: HttpRequest, campaign_id: Id):
    campaign = campaigns_of(business_of(request)).filter(pk=campaign_id).first()
    if campaign is None:
        raise not_found("campaign")
    return campaign_out(campaign)
