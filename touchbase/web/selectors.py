"""Reads for the owner's pages. Every function takes the current business and never looks
outside it. What happened over a period (sent, clicked, stopped...) comes from the daily
counts of touchbase/insights; what is true now (due, waiting, live) from small indexes.

Counts are `COUNT(*)` (Count(ROWS)) or, with a filter (Django refuses COUNT(*) FILTER), the
count of a NOT NULL column the index holds; never COUNT(id): the id is in no page index, and
naming it makes PostgreSQL visit every row instead of reading the index alone
(web/migrations/0002_index_only_counts.py lists which index serves which count)."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, QuerySet
from django.template.defaultfilters import pluralize

from touchbase import clock
from touchbase.campaigns.enrollment import SkipReason
from touchbase.campaigns.models import (
    LIVE_ENROLLMENT_STATUSES,
    Campaign,
    Enrollment,
    EnrollmentStatus,
    StopReason,
    Touch,
)
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.inbound.selectors import (
    recent_feedback,
    recent_replies,
    texts_needing_attention,
)
from touchbase.insights.facts import (  # DELIVERED: timeline reads it here
    CLICK_KIND,
    DELIVERED,  # noqa: F401
    Fact,
)
from touchbase.insights.selectors import facts_since, facts_since_each, totals
from touchbase.jobs.models import EnrollmentOutcome, Job
from touchbase.tenancy.models import Business
from touchbase.tenancy.setup import SETUP_INCOMPLETE, missing_setup
from touchbase.web.upcoming import PendingTouches, Windows, pending_touches

ATTENTION_STATUSES = (DeliveryStatus.FAILED, DeliveryStatus.UNCERTAIN)
REASON_LABELS = {**dict(SkipReason.choices), "error": "Enrollment failed", "": "Unknown"}
CLICK_KINDS = (CLICK_KIND,)
ROWS = "*"  # Count(ROWS): COUNT(*), answerable from an index alone


# --- dashboard -------------------------------------------------------------------------------


@dataclass
class Trend:
    label: str
    this_week: int
    last_week: int

    @property
    def change(self) -> int:
        return self.this_week - self.last_week

    @property
    def direction(self) -> str:
        return "up" if self.change > 0 else "down" if self.change < 0 else "flat"


@dataclass
class Dashboard:
    trends: list[Trend]
    chart: dict
    chart_rows: list[tuple]
    due_next: list[Delivery]
    due_count: int
    attention_deliveries: list[Delivery]
    attention_count: int
    not_enrolled_reasons: list[dict]
    not_enrolled_jobs: list[Job]
    campaigns: list[Campaign]
    flagged_texts: list
    flagged_count: int
    recent_replies: list
    recent_feedback: list
    needs_setup: list[str] = field(default_factory=list)


def _local_days(business: Business, now: datetime, days: int) -> list[date]:
    today = now.astimezone(ZoneInfo(business.time_zone)).date()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def dashboard(business: Business) -> Dashboard:
    """Sent, delivered and clicked per local day over two weeks (this week vs the one before),
    what goes out next, and what needs the owner: failed or uncertain sends, jobs not enrolled."""
    now = clock.now()
    days = _local_days(business, now, 14)

    # From the daily counts plus a live count of the open days (touchbase/insights).
    counted = totals(facts_since(business, days[0]), "day")
    series = {
        key: [counted[(key, day)] for day in days] for key in ("sent", "delivered", "clicked")
    }
    trends = [
        Trend(label, sum(series[key][7:]), sum(series[key][:7]))
        for key, label in (("sent", "Sent"), ("delivered", "Delivered"), ("clicked", "Clicked"))
    ]
    chart = {
        "labels": [day.strftime("%a %b %-d") for day in days[7:]],
        "series": [
            {"label": "Sent", "values": series["sent"][7:]},
            {"label": "Clicked", "values": series["clicked"][7:]},
        ],
    }

    chart_rows = [
        (label, [s["values"][i] for s in chart["series"]])
        for i, label in enumerate(chart["labels"])
    ]

    pending = Delivery.objects.filter(business=business, status=DeliveryStatus.PENDING)
    due_next = list(
        pending.select_related("enrollment__customer", "enrollment__campaign").order_by(
            "send_after"
        )[:8]
    )
    attention = Delivery.objects.filter(business=business, status__in=ATTENTION_STATUSES)
    flagged = texts_needing_attention(business).select_related("customer")
    not_enrolled = Job.objects.filter(
        business=business,
        enrollment_outcome__in=[EnrollmentOutcome.SKIPPED, EnrollmentOutcome.FAILED],
        enrollment_checked_at__gte=now - timedelta(days=30),
    )
    # When each will go out: the worker's send window moves a touch due at night to morning.
    windows = Windows(business)
    for delivery in due_next:
        delivery.expected_at = windows.into_window(
            delivery.send_after, delivery.enrollment.customer
        )
    return Dashboard(
        trends=trends,
        chart=chart,
        chart_rows=chart_rows,
        due_next=due_next,
        due_count=pending.filter(send_after__lt=now + timedelta(days=7)).count(),
        attention_deliveries=list(
            attention.select_related("enrollment__customer").order_by("-updated_at")[:10]
        ),
        attention_count=attention.count(),
        not_enrolled_reasons=[
            {**row, "label": REASON_LABELS.get(row["enrollment_reason"], row["enrollment_reason"])}
            for row in not_enrolled.values("enrollment_reason")
            .annotate(count=Count("pk"))
            .order_by("-count", "enrollment_reason")
        ],
        not_enrolled_jobs=list(
            not_enrolled.select_related("customer").order_by("-enrollment_checked_at")[:5]
        ),
        campaigns=campaigns_with_counts(business),
        flagged_texts=list(flagged[:5]),
        flagged_count=flagged.count(),
        recent_replies=list(recent_replies(business).select_related("customer")[:5]),
        recent_feedback=list(recent_feedback(business).select_related("customer")[:5]),
        needs_setup=setup_gaps(business),
    )


def setup_gaps(business: Business) -> list[str]:
    """What stands between this business and a running campaign, in the owner's words."""
    missing = missing_setup(business)
    gaps = []
    if "review_url" in missing:
        gaps.append("Add your review link (or Google Place ID)")
    if "postal_address" in missing:
        gaps.append("Add the postal address for email footers")
    held = Delivery.objects.filter(
        business=business, status=DeliveryStatus.HELD, defer_reason=SETUP_INCOMPLETE
    ).count()
    if held:
        gaps.append(f"{held} message{pluralize(held)} held: setup incomplete")
    if not business.campaigns.filter(status="active").exists():
        gaps.append("Turn on a campaign")
    return gaps


# --- campaigns -------------------------------------------------------------------------------


def campaigns_with_counts(business: Business) -> list[Campaign]:
    campaigns = list(
        Campaign.objects.filter(business=business)
        .prefetch_related("touches")
        .order_by("service_type", "name")
    )
    # By campaign id rather than business: the live-enrollment index starts with it.
    live = dict(
        Enrollment.objects.filter(
            campaign_id__in=[c.pk for c in campaigns], status__in=LIVE_ENROLLMENT_STATUSES
        )
        .values_list("campaign_id")
        .annotate(n=Count(ROWS))
    )
    for campaign in campaigns:
        campaign.live_count = live.get(campaign.pk, 0)
    return campaigns


def presets() -> QuerySet[Campaign]:
    return Campaign.objects.filter(business=None).prefetch_related("touches").order_by("pk")


@dataclass
class FunnelStep:
    touch: Touch | None
    position: int
    sent: int = 0
    delivered: int = 0
    clicked: int = 0
    failed: int = 0
    skipped: int = 0
    waiting: int = 0

    def percent(self, value: int) -> int:
        return round(100 * value / self.sent) if self.sent else 0

    @property
    def delivered_percent(self) -> int:
        return self.percent(self.delivered)

    @property
    def clicked_percent(self) -> int:
        return self.percent(self.clicked)


FUNNEL_FACTS = ("sent", "delivered", "clicked", "failed", "skipped")


def campaign_facts(campaign: Campaign, first_day: date | None = None) -> list[Fact]:
    """The campaign's facts from the local day `first_day` (None: all time), summed over
    the days: read once per page and handed to the funnel, the stop reasons and the counts."""
    return campaign_facts_each(campaign, [first_day])[0]


def campaign_facts_each(campaign: Campaign, first_days: list[date | None]) -> list[list[Fact]]:
    """campaign_facts of each of `first_days`, sharing the live part (one read of it)."""
    return facts_since_each(campaign.business, first_days, campaign_id=campaign.pk, by_day=False)


def campaign_funnel(
    campaign: Campaign,
    first_day: date | None = None,
    *,
    facts: list[Fact] | None = None,
    pending: PendingTouches | None = None,
) -> list[FunnelStep]:
    """Per touch, what happened from the local day `first_day` (None: all time): sent,
    delivered, clicked, failed, skipped (each on its own day, see insights/facts.py); and
    what is waiting now. `facts` (campaign_facts of `first_day`) and `pending`
    (upcoming.pending_touches): what the caller already read."""
    touches = {touch.position: touch for touch in campaign.touches.all()}
    if facts is None:
        facts = campaign_facts(campaign, first_day)
    counted = totals(facts, "position")
    # Pending touches: the grouped read the upcoming sends share. Held ones: their own
    # partial index. Only live enrollments have either; saying so lets the join read the
    # small index of live enrollments.
    waiting: Counter = Counter((pending or pending_touches(campaign)).by_position)
    waiting.update(
        dict(
            Delivery.objects.filter(
                business_id=campaign.business_id,
                status=DeliveryStatus.HELD,
                enrollment__campaign=campaign,
                enrollment__status__in=LIVE_ENROLLMENT_STATUSES,
            )
            .values_list("position")
            .annotate(n=Count(ROWS))
        )
    )
    positions = {position for (_, position) in counted if position} | set(waiting)
    return [
        FunnelStep(
            touch=touches.get(position),
            position=position,
            waiting=waiting.get(position, 0),
            **{fact: counted[(fact, position)] for fact in FUNNEL_FACTS},
        )
        for position in sorted(set(touches) | positions)
    ]


def stop_reasons(
    campaign: Campaign, first_day: date | None = None, *, facts: list[Fact] | None = None
) -> list[dict]:
    """Why sequences stopped, from the local day `first_day` (None: all time); `facts`:
    campaign_facts of `first_day` when already read."""
    labels = dict(StopReason.choices)
    if facts is None:
        facts = campaign_facts(campaign, first_day)
    counted = totals(facts, "reason")
    stops = sorted(
        ((reason, n) for (fact, reason), n in counted.items() if fact == "stopped" and n),
        key=lambda item: (-item[1], item[0]),
    )
    return [{"reason": reason, "label": labels.get(reason), "count": n} for reason, n in stops]


def enrollment_counts(campaign: Campaign, *, all_time: list[Fact] | None = None) -> dict[str, int]:
    """Live enrollments counted now (a small index); ended ones from the daily counts, so
    the cost does not grow with the history. `all_time`: campaign_facts(campaign) when
    already read."""
    counts = dict(
        Enrollment.objects.filter(campaign=campaign, status__in=LIVE_ENROLLMENT_STATUSES)
        .values_list("status")
        .annotate(n=Count(ROWS))
    )
    ended = totals(campaign_facts(campaign) if all_time is None else all_time)
    for status in (EnrollmentStatus.COMPLETED, EnrollmentStatus.STOPPED):
        counts[str(status)] = ended[(str(status),)]
    return counts
