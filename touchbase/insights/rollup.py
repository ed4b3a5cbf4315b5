"""The worker's duty that counts facts into DailyCount (`ops/periodic.py`, once a minute).

For each business, in one transaction holding its RollupState row:
1. the days changed late since the last look (`facts.late_days`) are counted again;
2. the facts from `counted_until` to SETTLE + MARGIN ago are counted and added to their
   days (at most DAYS_PER_PASS days a pass, so a first run over a long history is spread
   over passes).
The state moves in the same transaction as the counts, so a pass that dies counts nothing
twice; a second worker skips a business whose row is locked. A change of the business's time
zone starts its counts again.
"""

import logging
from collections import Counter
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Min

from touchbase import clock
from touchbase.campaigns.models import Enrollment
from touchbase.insights.facts import (
    KEY,
    SETTLE,
    Fact,
    count_facts,
    late_days,
    local_day,
    local_midnight,
)
from touchbase.insights.models import DailyCount, RollupState
from touchbase.tenancy.models import Business

logger = logging.getLogger(__name__)
# Longer than any transaction that writes a fact: a change made before a count but committed
# after it is still looked at by the next pass.
MARGIN = timedelta(minutes=15)
DAYS_PER_PASS = 31


def roll_up(now: datetime | None = None) -> dict:
    """One pass over every business; returns how many days were counted again (late
    changes) and had facts added. A business that cannot be counted (a zone tzdata does not
    know) is logged and left to its live counts."""
    now = now or clock.now()
    totals: Counter = Counter()
    for business in Business.objects.order_by("pk").iterator():
        try:
            totals.update(roll_up_business(business, now))
        except Exception:
            totals["businesses_failed"] += 1
            logger.exception("daily counts of business %s failed", business.pk)
    return {"days_recounted": 0, "days_added": 0, "businesses_failed": 0, **totals}


def roll_up_business(business: Business, now: datetime) -> dict:
    """Returns how many days were counted again and had facts added."""
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
                return {}
        elif state.time_zone != business.time_zone:
            DailyCount.objects.filter(business=business).delete()
            for name, value in _fresh(business, now).items():
                setattr(state, name, value)
        stale = sorted(late_days(business, state.checked_at - MARGIN))
        for day in stale:
            count_day_again(business, day, state.counted_until)
        state.checked_at = now
        until = min(now - SETTLE - MARGIN, state.counted_until + timedelta(days=DAYS_PER_PASS))
        added: set[date] = set()
        if until > state.counted_until:
            added = add_facts(business, count_facts(business, state.counted_until, until))
            state.counted_until = until
        state.save()
    return {"days_recounted": len(stale), "days_added": len(added)}


def _fresh(business: Business, now: datetime) -> dict:
    """Nothing counted yet: start at the local midnight of the business's first enrollment."""
    first = Enrollment.objects.filter(business=business).aggregate(first=Min("enrolled_at"))
    start = local_midnight(business, local_day(business, first["first"] or now))
    return {"time_zone": business.time_zone, "counted_until": start, "checked_at": now}


def count_day_again(business: Business, day: date, counted_until: datetime) -> None:
    """Replace `day`'s counts with a fresh count of its facts before `counted_until`."""
    start = local_midnight(business, day)
    if start >= counted_until:
        return  # not counted yet: the pages count it live
    end = min(local_midnight(business, day + timedelta(days=1)), counted_until)
    DailyCount.objects.filter(business=business, day=day).delete()
    _store(business, count_facts(business, start, end))


def add_facts(business: Business, facts: list[Fact]) -> set[date]:
    """Add `facts` to the counts of their days (a day partly counted before included)."""
    days = {fact.day for fact in facts}
    merged: Counter = Counter()
    for row in DailyCount.objects.filter(business=business, day__in=days).values():
        merged[tuple(row[name] for name in KEY)] += row["count"]
    for fact in facts:
        merged[fact.key] += fact.count
    DailyCount.objects.filter(business=business, day__in=days).delete()
    _store(business, [Fact(*key, count) for key, count in merged.items()])
    return days


def _store(business: Business, facts: list[Fact]) -> None:
    DailyCount.objects.bulk_create(
        DailyCount(business=business, count=fact.count, **dict(zip(KEY, fact.key, strict=True)))
        for fact in facts
    )
