"""Activity: every delivery with its status, channel and time, filterable."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from touchbase.channels import Channel
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.delivery.services import mark_uncertain_sent, requeue_uncertain
from touchbase.web.current import business_view
from touchbase.web.forms import query_text, redirect_back

WAITING = (DeliveryStatus.PENDING, DeliveryStatus.HELD)


@business_view
def activity(request: HttpRequest) -> HttpResponse:
    deliveries = Delivery.objects.filter(business=request.business).select_related(
        "enrollment__customer", "enrollment__campaign", "enrollment__job"
    )
    status = query_text(request, "status")
    channel = query_text(request, "channel")
    if status in DeliveryStatus.values:
        deliveries = deliveries.filter(status=status)
    elif status != "all":  # by default: what happened, not what is still waiting
        status = ""
        deliveries = deliveries.exclude(status__in=WAITING)
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


@business_view
@require_POST
def delivery_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner settles an uncertain delivery: it did arrive (sent), or send it again."""
    delivery = get_object_or_404(Delivery, pk=pk, business=request.business)
    action = request.POST.get("action")
    try:
        if action == "sent":
            mark_uncertain_sent(delivery=delivery)
            messages.success(request, "Marked as sent.")
        elif action == "requeue":
            requeue_uncertain(delivery=delivery)
            messages.success(request, "Queued again: it goes out as soon as the rules allow.")
        else:
            messages.error(request, "Choose: mark as sent, or send again.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect_back(request, "web:activity")
