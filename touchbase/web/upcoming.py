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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from touchbase import clock
from touchbase.campaigns.models import LIVE_ENROLLMENT_STATUSES, Campaign
from touchbase.customers.models import Customer
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.delivery.send_window import SendWindow, load_rules, window_for
from touchbase.tenancy.models import Business

HORIZON = timedelta(days=7)


@dataclass
class UpcomingSend:
    at: datetime
    position: int
    channel: str
    customer: Customer | None
    projected: bool  # True: a later touch that has no delivery row yet


@dataclass(frozen=True)
class PendingTouches:
    """The pending touches of a campaign's live enrollments, read once (one grouped query)
    for both the funnel's "waiting" column and the upcoming sends per day."""

    horizon: datetime
    by_position: Counter  # position -> pending touches (all of them)
    per_day: list[tuple]  # (local date, count) of those due before `horizon`


def _pending(campaign: Campaign):
    return Delivery.objects.filter(
        business_id=campaign.business_id,
        enrollment__campaign=campaign,
        # Only live enrollments have a pending touch; saying so lets the join read the small
        # index of live enrollments instead of every enrollment of the campaign.
        enrollment__status__in=LIVE_ENROLLMENT_STATUSES,
        status=DeliveryStatus.PENDING,
    )


def pending_touches(campaign: Campaign) -> PendingTouches:
    """Per touch and local day, the pending touches and, of those, the ones due within the
    horizon: an Index Only Scan of web_delivery_due joined once to the live enrollments
    (before, the funnel and the upcoming sends each made that join)."""
    horizon = clock.now() + HORIZON
    tz = ZoneInfo(campaign.business.time_zone)
    rows = (
        _pending(campaign)
        .annotate(day=TruncDate("send_after", tzinfo=tz))
        .values("position", "day")
        # COUNT(*) and the count of an index key: index-only (web/migrations/0002).
        .annotate(n=Count("*"), soon=Count("send_after", filter=Q(send_after__lt=horizon)))
    )
    by_position: Counter = Counter()
    per_day: Counter = Counter()
    for row in rows:
        by_position[row["position"]] += row["n"]
        if row["soon"]:
            per_day[row["day"]] += row["soon"]
    return PendingTouches(horizon, by_position, sorted(per_day.items()))


@dataclass
class Upcoming:
    sends: list[UpcomingSend]
    next_touch_total: int  # deliveries due in the horizon (the first column of the funnel)
    per_day: list[tuple]  # (local date, count) of those deliveries


class Windows:
    """The worker's own send-window rules (business window narrowed by federal and state
    law, in the recipient's zones), one window per customer."""

    def __init__(self, business: Business):
        self.business = business
        self.rules = load_rules()
        self.cache: dict[int | None, SendWindow | None] = {}

    def into_window(self, at: datetime, customer: Customer | None) -> datetime:
        key = customer.pk if customer else None
        if key not in self.cache:
            try:
                self.cache[key] = window_for(
                    customer or Customer(business=self.business), self.business, self.rules
                )
            except (ValueError, ZoneInfoNotFoundError):
                # A bad row (a zone tzdata does not know): the worker fails that delivery
                # alone; the page shows its unadjusted time rather than failing.
                self.cache[key] = None
        window = self.cache[key]
        # None: no legal window, the worker will skip it; show the unadjusted time.
        return (window.next_opening(at) if window else None) or at


def upcoming_sends(
    campaign: Campaign, *, limit: int = 100, pending: PendingTouches | None = None
) -> Upcoming:
    """`pending`: the campaign's pending_touches when the caller already read them."""
    business = campaign.business
    pending = pending or pending_touches(campaign)
    horizon = pending.horizon
    touches = {touch.position: touch for touch in campaign.touches.all()}
    windows = Windows(business)
    due = _pending(campaign).filter(send_after__lt=horizon)
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
            at = windows.into_window(scheduled, customer)
            if at >= horizon:
                break
            sends.append(UpcomingSend(at, position, touch.channel, customer, True))
    sends.sort(key=lambda send: send.at)
    _apply_throttle(sends, business, windows)
    return Upcoming(
        sends=[send for send in sends if send.at < horizon][:limit],
        next_touch_total=sum(n for _, n in pending.per_day),
        per_day=pending.per_day,
    )


def _apply_throttle(sends: list[UpcomingSend], business: Business, windows: Windows) -> None:
    """Push sends past a full hour (per channel) into the next hour, in order."""
    limits = {"email": business.email_hourly_limit, "sms": business.sms_hourly_limit}
    used: Counter = Counter()
    for send in sends:
        while True:
            hour = send.at.replace(minute=0, second=0, microsecond=0)
            if used[(send.channel, hour)] < limits[send.channel]:
                used[(send.channel, hour)] += 1
                break
            send.at = windows.into_window(hour + timedelta(hours=1), send.customer)
    sends.sort(key=lambda send: send.at)
