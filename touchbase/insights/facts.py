"""What the owner's pages count, written once: the worker's daily counts and the pages' live
counts both call `count_facts`, so the two cannot disagree on a rule.

Each fact belongs to the local day of its own moment, which does not move afterwards:

- `sent`, `delivered`: deliveries now `sent` (of those, with a `delivered` receipt), on the
  day their call started (`sent_at`);
- `failed`, `skipped`: deliveries now failed or skipped, on the day they were due
  (`send_after`);
- `clicked`: first clicks on a delivery's review link, on the day of the click (a click
  today on last week's text is today's);
- `completed`, `stopped` (by reason): enrollments, on the day they ended.

A delivery can still change after its day closed (a receipt hours later, an `uncertain` send
settled by evidence or by the owner). Every write to a delivery sets `updated_at`, so such a
row is one whose `updated_at` is more than `SETTLE` after its `send_after`; a small partial
index holds exactly those rows (insights/migrations/0001), and `late_days` reads it.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import BigIntegerField, Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils.dateparse import parse_datetime

from touchbase.campaigns.models import Enrollment, EnrollmentStatus
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.inbound.models import Event
from touchbase.tenancy.models import Business

DELIVERED = "delivered"  # the receipt_status a provider reports for a message that arrived
# The Event kind of a customer's first click on a review link (a link scanner's fetch is
# "review_link_scanned" and is not a click).
CLICK_KIND = "review_clicked"
# A change this long after a delivery was due is "late": its day may already be counted.
SETTLE = timedelta(hours=1)
# The late-change index's condition, as each database writes it (the query repeats it
# word for word, so the planner knows the index answers it).
LATE_CHANGE = {
    "postgresql": "updated_at - send_after > interval '1 hour'",
    "sqlite": "julianday(updated_at) - julianday(send_after) > 1.0 / 24",
}


KEY = ("day", "campaign_id", "position", "channel", "fact", "reason")  # a DailyCount's key


@dataclass(frozen=True)
class Fact:
    day: date
    campaign_id: int
    position: int
    channel: str
    fact: str
    reason: str
    count: int

    @property
    def key(self) -> tuple:
        return (self.day, self.campaign_id, self.position, self.channel, self.fact, self.reason)


def local_midnight(business: Business, day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(business.time_zone))


def local_day(business: Business, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(business.time_zone)).date()


def count_facts(
    business: Business,
    start: datetime,
    end: datetime | None = None,
    *,
    campaign_id: int | None = None,
) -> list[Fact]:
    """Every fact of `business` whose moment is in [start, end), counted from the rows
    themselves, per local day, campaign, touch and channel."""
    tz = ZoneInfo(business.time_zone)

    def within(field: str) -> Q:
        bounds = Q(**{f"{field}__gte": start})
        return bounds & Q(**{f"{field}__lt": end}) if end is not None else bounds

    # The campaign of each delivery by a lookup per row (a subquery on the enrollment's key),
    # never a join the planner may answer by reading every enrollment: the cost is the
    # period's rows, whatever the history holds.
    campaign_of = Subquery(
        Enrollment.objects.filter(pk=OuterRef("enrollment_id")).values("campaign_id")[:1]
    )
    campaign_key = Coalesce(campaign_of, 0, output_field=BigIntegerField())
    deliveries = Delivery.objects.filter(business=business)
    clicks = Event.objects.filter(business=business, kind=CLICK_KIND)
    enrollments = Enrollment.objects.filter(business=business)
    if campaign_id is None:
        deliveries = deliveries.annotate(campaign_key=campaign_key)
    else:
        # Filtered by the lookup, selected as the constant it must then equal: one lookup
        # per row instead of two (the filter's and the select's).
        deliveries = (
            deliveries.alias(key_of=campaign_key)
            .filter(key_of=campaign_id)
            .annotate(campaign_key=Value(campaign_id, output_field=BigIntegerField()))
        )
        clicks = clicks.filter(delivery__enrollment__campaign_id=campaign_id)
        enrollments = enrollments.filter(campaign_id=campaign_id)
    facts: list[Fact] = []

    def add(rows, facts_of) -> None:
        for row in rows:
            for fact, reason, count in facts_of(row):
                if count:
                    key = (row.get("position", 0), row.get("channel", ""))
                    facts.append(Fact(row["day"], row["campaign_key"], *key, fact, reason, count))

    add(
        deliveries.filter(within("sent_at"), status=DeliveryStatus.SENT)
        .values("position", "channel", "campaign_key", day=TruncDate("sent_at", tzinfo=tz))
        .annotate(n=Count("*"), delivered=Count("sent_at", filter=Q(receipt_status=DELIVERED))),
        lambda row: [("sent", "", row["n"]), ("delivered", "", row["delivered"])],
    )
    add(
        deliveries.filter(
            within("send_after"), status__in=[DeliveryStatus.FAILED, DeliveryStatus.SKIPPED]
        )
        .values(
            "position",
            "channel",
            "status",
            "campaign_key",
            day=TruncDate("send_after", tzinfo=tz),
        )
        .annotate(n=Count("*")),
        lambda row: [(row["status"], "", row["n"])],
    )
    add(
        clicks.filter(within("occurred_at"))
        .values(
            day=TruncDate("occurred_at", tzinfo=tz),
            campaign_key=Coalesce("delivery__enrollment__campaign_id", 0),
            position=Coalesce("delivery__position", 0),
            channel=Coalesce("delivery__channel", Value("")),
        )
        .annotate(n=Count("*")),
        lambda row: [("clicked", "", row["n"])],
    )
    add(
        enrollments.filter(within("completed_at"), status=EnrollmentStatus.COMPLETED)
        .values(day=TruncDate("completed_at", tzinfo=tz), campaign_key=Coalesce("campaign_id", 0))
        .annotate(n=Count("*")),
        lambda row: [("completed", "", row["n"])],
    )
    add(
        enrollments.filter(within("stopped_at"), status=EnrollmentStatus.STOPPED)
        .values(
            "stop_reason",
            day=TruncDate("stopped_at", tzinfo=tz),
            campaign_key=Coalesce("campaign_id", 0),
        )
        .annotate(n=Count("*")),
        lambda row: [("stopped", row["stop_reason"], row["n"])],
    )
    return facts


def late_days(business: Business, since: datetime) -> set[date]:
    """The local days of deliveries changed late (see the module's note) after `since`."""
    late = LATE_CHANGE[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sent_at, send_after FROM delivery_delivery "
            f"WHERE business_id = %s AND updated_at > %s AND {late}",
            [business.pk, since],
        )
        rows = cursor.fetchall()
    days = set()
    for sent_at, send_after in rows:
        for moment in (sent_at, send_after):
            if moment is not None:
                days.add(local_day(business, _aware(moment)))
    return days


def _aware(moment) -> datetime:
    if isinstance(moment, str):  # SQLite hands a raw cursor text
        moment = parse_datetime(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
