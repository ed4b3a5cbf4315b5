"""`/webhook-endpoints`: where the business's events are posted (signed, Standard Webhooks).
The secret is in the answer to the create call only."""

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from touchbase.api.auth import business_of
from touchbase.api.errors import not_found
from touchbase.api.pagination import Cursor, Limit, paginate
from touchbase.api.schemas import ErrorOut, Id, Text, UtcOut
from touchbase.webhooks.models import EVENT_TYPES, WebhookEndpoint
from touchbase.webhooks.services import create_endpoint, delete_endpoint

router = Router(tags=["webhook endpoints"])
ERRORS = {401: ErrorOut, 404: ErrorOut, 413: ErrorOut, 422: ErrorOut, 429: ErrorOut}
EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]


class WebhookEndpointIn(Schema):
    url: Text(2000) = Field(description="An https URL on a public address.")
    events: list[EventType] = Field([], description="Event types to receive; empty: all.")
    description: Text(200) = ""


class WebhookEndpointOut(Schema):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    disabled_reason: str
    created_at: UtcOut


class WebhookEndpointCreatedOut(WebhookEndpointOut):
    secret: str = Field(description="`whsec_...`: verify signatures with it. Shown only once.")


class WebhookEndpointPage(Schema):
    items: list[WebhookEndpointOut]
    next_cursor: str | None


def endpoint_out(endpoint: WebhookEndpoint) -> dict:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "events": endpoint.events,
        "description": endpoint.description,
        "active": endpoint.is_active,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": endpoint.created_at,
    }


def get_endpoint(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    endpoint = business_of(request).webhook_endpoints.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise not_found("webhook endpoint")
    return endpoint


@router.post("/webhook-endpoints", response={201: WebhookEndpointCreatedOut, **ERRORS})
def create(request: HttpRequest, payload: WebhookEndpointIn):
    """Register an endpoint; the answer carries its signing secret, once."""
    created = create_endpoint(
        business=business_of(request),
        url=payload.url,
        events=list(payload.events),
        description=payload.description,
    )
    return Status(201, {**endpoint_out(created.endpoint), "secret": created.secret})


@router.get("/webhook-endpoints", response={200: WebhookEndpointPage, **ERRORS})
def list_endpoints(request: HttpRequest, limit: Limit = 50, cursor: Cursor = None):
    page = paginate(business_of(request).webhook_endpoints.all(), cursor=cursor, limit=limit)
    return {
        "items": [endpoint_out(endpoint) for endpoint in page["items"]],
        "next_cursor": page["next_cursor"],
    }


@router.get("/webhook-endpoints/{endpoint_id}", response={200: WebhookEndpointOut, **ERRORS})
def read(request: HttpRequest, endpoint_id: Id):
    return endpoint_out(get_endpoint(request, endpoint_id))


@router.delete("/webhook-endpoints/{endpoint_id}", response={204: None, **ERRORS})
def delete(request: HttpRequest, endpoint_id: Id):
    delete_endpoint(endpoint=get_endpoint(request, endpoint_id))
    return Status(204, None)
