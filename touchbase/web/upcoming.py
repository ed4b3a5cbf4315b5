"""A campaign's "upcoming sends": what will go out in the next 7 days.

The next touch of each enrollment has a Delivery row whose `send_after` already carries the
worker's deferrals; the touches after it are projected from its `scheduled_at` plus their
delays. Each projected time is moved into the send window (in the customer's time zone, else
the business's) and, per channel, past the business's hourly throttle. It is an estimate for
the owner: the worker decides the real time when the touch falls due.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.db.models.functions import TruncDate

from touchbase import clock
from touchbase.campaigns.models import Campaign
from touchbase.customers.models import Customer
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.tenancy.models import Business

HORIZON = timedelta(days=7)


@dataclass
class UpcomingSend:
    at: datetime
    position: int
    channel: str
    customer: Customer | None
    projected: bool  # True: a later touch that has no delivery row yet


@dataclass
class Upcoming:
    sends: list[UpcomingSend]
    next_touch_total: int  # deliveries due in the horizon (the first column of the funnel)
    per_day: list[tuple]  # (local date, count) of those deliveries


def into_window(at: datetime, business: Business, customer: Customer | None) -> datetime:
    """The first moment at or after `at` inside the business's send window, in the
    customer's time zone (else the business's)."""
    tz = ZoneInfo((customer.time_zone if customer else "") or business.time_zone)
    local = at.astimezone(tz)
    start, end = business.send_window_start, business.send_window_end
    if local.time() < start:
        local = local.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
    elif local.time() >= end:
        local = (local + timedelta(days=1)).replace(
            hour=start.hour, minute=start.minute, second=0, microsecond=0
        )
    return local.astimezone(at.tzinfo)


def upcoming_sends(campaign: Campaign, *, limit: int = 100) -> Upcoming:
    business = campaign.business
    now = clock.now()
    horizon = now + HORIZON
    touches = {touch.position: touch for touch in campaign.touches.all()}
    due = Delivery.objects.filter(
        business=business,
        enrollment__campaign=campaign,
        status=DeliveryStatus.PENDING,
        send_after__lt=horizon,
    )
    sends: list[UpcomingSend] = []
    for delivery in due.select_related("enrollment__customer").order_by("send_after")[:limit]:
        customer = delivery.enrollment.customer
        sends.append(
            UpcomingSend(delivery.send_after, delivery.position, delivery.channel, customer, False)
        )
        scheduled = delivery.scheduled_at
        for position in range(delivery.position + 1, max(touches, default=0) + 1):
            touch = touches.get(position)
            if touch is None:
                break
            scheduled += timedelta(hours=touch.delay_hours)
            at = into_window(scheduled, business, customer)
            if at >= horizon:
                break
            sends.append(UpcomingSend(at, position, touch.channel, customer, True))
    sends.sort(key=lambda send: send.at)
    _apply_throttle(sends, business)
    per_day = [
        (row["day"], row["n"])
        for row in due.annotate(day=TruncDate("send_after", tzinfo=ZoneInfo(business.time_zone)))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("day")
    ]
    return Upcoming(
        sends=[send for send in sends if send.at < horizon][:limit],
        next_touch_total=sum(n for _, n in per_day),
        per_day=per_day,
    )


def _apply_throttle(sends: list[UpcomingSend], business: Business) -> None:
    """Push sends past a full hour (per channel) into the next hour, in order."""
    limits = {"email": business.email_hourly_limit, "sms": business.sms_hourly_limit}
    used: Counter = Counter()
    for send in sends:
        while True:
            hour = send.at.replace(minute=0, second=0, microsecond=0)
            if used[(send.channel, hour)] < limits[send.channel]:
                used[(send.channel, hour)] += 1
                break
            send.at = into_window(hour + timedelta(hours=1), business, send.customer)
    sends.sort(key=lambda send: send.at)
