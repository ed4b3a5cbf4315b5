"""Throttles and frequency caps (PRODUCT §3, §8).

- Per business and channel, an hourly limit paced evenly (GCRA): sends are spaced
  3600/limit seconds apart, with a burst of at most one minute's share of the limit
  (100/h: none, strictly one every 36 s; 6,000/h: 100 at once). A touch that must wait
  *reserves* its slot, so waiting touches come back one interval apart instead of all at
  once, and a touch that comes back at its reserved slot passes without taking another.
- Per recipient: at most one email and one SMS an hour, and 3 SMS in 24 hours to a number,
  across every campaign of the business. Counted by address: two customers sharing a phone
  share its cap, which is what the person holding the phone would want.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Q

from touchbase.bulk_reads import among
from touchbase.channels import Channel
from touchbase.delivery.bulk_write import update_rows
from touchbase.delivery.models import Delivery, DeliveryStatus, ThrottleState
from touchbase.tenancy.models import Business

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
SMS_PER_DAY = 3
THROTTLE_DEFER_REASON = "throttle"


class RecentSends:
    """What was sent to each address of a batch in the last 24 hours (plus in-flight)."""

    def __init__(self, business_ids: set[int], addresses: set[str], now: datetime):
        self.times: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        rows = Delivery.objects.filter(
            among("to_address", addresses),
            business_id__in=business_ids,
            status__in=[DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.UNCERTAIN],
        ).filter(Q(sent_at__gte=now - DAY) | Q(status=DeliveryStatus.SENDING))
        for channel, address, sent_at in rows.values_list("channel", "to_address", "sent_at"):
            self.times[(channel, address)].append(sent_at or now)
        for times in self.times.values():
            times.sort(reverse=True)

    def wait_until(self, channel: str, address: str, now: datetime) -> datetime | None:
        """When this recipient may next get a message on `channel`; None: now."""
        times = [t for t in self.times.get((channel, address), []) if t > now - DAY]
        waits = []
        if times and times[0] > now - HOUR:
            waits.append(times[0] + HOUR)
        if channel == Channel.SMS and len(times) >= SMS_PER_DAY:
            waits.append(times[SMS_PER_DAY - 1] + DAY)
        return max(waits) if waits else None

    def record(self, channel: str, address: str, at: datetime) -> None:
        self.times[(channel, address)].insert(0, at)


class Throttle:
    """Holds the locked ThrottleState rows of a batch's businesses and channels."""

    def __init__(self, businesses: dict[int, Business], channels: set[tuple[int, str]], now):
        ThrottleState.objects.bulk_create(
            [
                ThrottleState(business_id=business_id, channel=channel, next_slot_at=now)
                for business_id, channel in channels
            ],
            ignore_conflicts=True,
        )
        self.businesses = businesses
        states = ThrottleState.objects.select_for_update().order_by("business_id", "channel")
        self.states = {
            (state.business_id, state.channel): state
            for state in states.filter(business_id__in={business_id for business_id, _ in channels})
            if (state.business_id, state.channel) in channels
        }
        self.changed: set[tuple[int, str]] = set()

    def pace(self, business_id: int, channel: str) -> tuple[timedelta, timedelta]:
        """(interval between sends, burst tolerance) for a business's channel."""
        business = self.businesses[business_id]
        limit = (
            business.email_hourly_limit if channel == Channel.EMAIL else business.sms_hourly_limit
        )
        interval = timedelta(seconds=3600 / limit)
        return interval, interval * (max(1, limit // 60) - 1)

    def admit(self, delivery: Delivery, now: datetime) -> datetime | None:
        """None: send now. Else the reserved slot to defer the delivery to."""
        if delivery.defer_reason == THROTTLE_DEFER_REASON and delivery.send_after <= now:
            return None  # it comes back at the slot it reserved
        key = (delivery.business_id, delivery.channel)
        state = self.states[key]
        self.changed.add(key)
        interval, tolerance = self.pace(*key)
        slot = state.next_slot_at - tolerance
        if slot <= now:
            state.next_slot_at = max(state.next_slot_at, now) + interval
            return None
        state.next_slot_at += interval
        return slot

    def save(self) -> None:
        changed = [self.states[key] for key in self.changed]
        if changed:
            update_rows(changed, ["next_slot_at"])
