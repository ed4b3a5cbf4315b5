"""Activity: every delivery with its status, channel and time, filterable."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from touchbase.channels import Channel
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.web.current import business_view


@business_view
def activity(request: HttpRequest) -> HttpResponse:
    deliveries = Delivery.objects.filter(business=request.business).select_related(
        "enrollment__customer", "enrollment__campaign", "enrollment__job"
    )
    status = request.GET.get("status", "")
    channel = request.GET.get("channel", "")
    if status in DeliveryStatus.values:
        deliveries = deliveries.filter(status=status)
    if channel in Channel.values:
        deliveries = deliveries.filter(channel=channel)
    page = Paginator(deliveries.order_by("-updated_at", "-pk"), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "web/activity.html",
        {
            "page": page,
            "status": status,
            "channel": channel,
            "status_choices": DeliveryStatus.choices,
            "channel_choices": Channel.choices,
            "nav": "activity",
        },
    )
