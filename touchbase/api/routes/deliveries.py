from typing import Literal

from django.http import HttpRequest
from ninja import Router

from touchbase.api.auth import business_of
from touchbase.api.pagination import Cursor, Limit, paginate
from touchbase.api.schemas import DeliveryOut, DeliveryPage, ErrorOut, Id, UtcIn
from touchbase.api.selectors import deliveries_of
from touchbase.channels import Channel
from touchbase.delivery.models import Delivery, DeliveryStatus

router = Router(tags=["deliveries"])
ERRORS = {401: ErrorOut, 413: ErrorOut, 422: ErrorOut, 429: ErrorOut}


def delivery_out(delivery: Delivery) -> dict:
    return {
        **{field: getattr(delivery, field, None) for field in DeliveryOut.model_fields},
        "customer_id": delivery.enrollment.customer_id,
    }


@router.get("/deliveries", response={200: DeliveryPage, **ERRORS})
def list_deliveries(
    request: HttpRequest,
    status: Literal[tuple(DeliveryStatus.values)] | None = None,  # type: ignore[valid-type]
    channel: Literal[tuple(Channel.values)] | None = None,  # type: ignore[valid-type]
    enrollment_id: Id | None = None,
    customer_id: Id | None = None,
    scheduled_after: UtcIn | None = None,
    scheduled_before: UtcIn | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
):
    """Every delivery (one row per touch of an enrollment), newest first."""
    filters = {
        "status": status,
        "channel": channel,
        "enrollment_id": enrollment_id,
        "enrollment__customer_id": customer_id,
        "scheduled_at__gte": scheduled_after,
        "scheduled_at__lt": scheduled_before,
    }
    deliveries = deliveries_of(business_of(request)).filter(
        **{name: value for name, value in filters.items() if value is not None}
    )
    page = paginate(deliveries, cursor=cursor, limit=limit)
    return {
        "items": [delivery_out(delivery) for delivery in page["items"]],
        "next_cursor": page["next_cursor"],
    }
