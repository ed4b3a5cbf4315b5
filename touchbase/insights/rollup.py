"""The worker's duty that counts closed days (`ops/periodic.py` runs it once a minute).

For each business, in one transaction holding its RollupState row:
1. days changed late since the last look (`facts.late_days`) are counted again;
2. each day that closed more than SETTLE + MARGIN ago is counted, oldest first (at most
   DAYS_PER_PASS a pass, so a first run over a long history is spread over passes).
Counting a day replaces its rows, so a pass is idempotent; a second worker skips a business
whose row is locked. A change of the business's time zone starts its counts again.
"""

import logging
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Min

from touchbase import clock
from touchbase.campaigns.models import Enrollment
from touchbase.insights.facts import SETTLE, count_facts, late_days, local_day, local_midnight
from touchbase.insights.models import DailyCount, RollupState
from touchbase.tenancy.models import Business

logger = logging.getLogger(__name__)
# Longer than any transaction that writes a fact: a change made before a count but committed
# after it is still looked at by the next pass.
MARGIN = timedelta(minutes=15)
DAYS_PER_PASS = 31


def roll_up(now: datetime | None = None) -> dict:
    """One pass over every business; returns how many days were counted. A business that
    cannot be counted (a zone tzdata does not know) is logged and left to its live counts."""
    now = now or clock.now()
    counted = failed = 0
    for business in Business.objects.order_by("pk").iterator():
        try:
            counted += roll_up_business(business, now)
        except Exception:
            failed += 1
            logger.exception("daily counts of business %s failed", business.pk)
    return {"days_counted": counted, "businesses_failed": failed}


def roll_up_business(business: Business, now: datetime) -> int:
    with transaction.atomic():
        state = (
            RollupState.objects.select_for_update(skip_locked=True)
            .filter(business=business)
            .first()
        )
        if state is None:
            state, created = RollupState.objects.get_or_create(
                business=business, defaults=_fresh(business, now)
            )
            if not created:  # another worker made it just now: it counts this pass
                return 0
        elif state.time_zone != business.time_zone:
            DailyCount.objects.filter(business=business).delete()
            for name, value in _fresh(business, now).items():
                setattr(state, name, value)
        looked_at = now
        days = sorted(day for day in late_days(business, state.checked_at - MARGIN))
        stale = [day for day in days if day <= state.counted_through]
        for day in stale:
            count_day(business, day)
        state.checked_at = looked_at
        closed = 0
        while closed < DAYS_PER_PASS and day_closed(business, state.counted_through, now):
            state.counted_through += timedelta(days=1)
            count_day(business, state.counted_through)
            closed += 1
        state.save()
    return len(stale) + closed


def _fresh(business: Business, now: datetime) -> dict:
    """Nothing counted yet: start the day before the business's first enrollment."""
    first = Enrollment.objects.filter(business=business).aggregate(first=Min("enrolled_at"))
    start = local_day(business, first["first"] or now)
    return {
        "time_zone": business.time_zone,
        "counted_through": start - timedelta(days=1),
        "checked_at": now,
    }


def day_closed(business: Business, counted_through: date, now: datetime) -> bool:
    """Whether the day after `counted_through` ended long enough ago to be counted for good."""
    end = local_midnight(business, counted_through + timedelta(days=2))
    return end + SETTLE + MARGIN <= now


def count_day(business: Business, day: date) -> None:
    start = local_midnight(business, day)
    end = local_midnight(business, day + timedelta(days=1))
    DailyCount.objects.filter(business=business, day=day).delete()
    DailyCount.objects.bulk_create(
        DailyCount(
            business=business,
            day=fact.day,
            campaign_id=fact.campaign_id,
            position=fact.position,
            channel=fact.channel,
            fact=fact.fact,
            reason=fact.reason,
            count=fact.count,
        )
        for fact in count_facts(business, start, end)
    )
