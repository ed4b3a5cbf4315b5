"""The facts of a period for the owner's pages: the worker's daily counts for the days it
closed, and a live count (`facts.count_facts`, the same rule) for the open days and for
any closed day a late change touched since the worker last looked. So the numbers are
exactly what counting the rows would give, at the cost of a day or two of rows."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from django.db.models import Sum

from touchbase.insights.facts import Fact, count_facts, late_days, local_midnight
from touchbase.insights.models import DailyCount, RollupState
from touchbase.insights.rollup import MARGIN
from touchbase.tenancy.models import Business

BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
KEY = ("campaign_id", "position", "channel", "fact", "reason")


def facts_since(
    business: Business,
    first_day: date | None,
    *,
    campaign_id: int | None = None,
    by_day: bool = True,
) -> list[Fact]:
    """Every fact from the local day `first_day` (None: all time) until now; with
    `by_day=False` the counted days are summed (their `day` is then `first_day`)."""
    start = local_midnight(business, first_day) if first_day else BEGINNING
    state = RollupState.objects.filter(business=business, time_zone=business.time_zone).first()
    if state is None or (first_day is not None and state.counted_through < first_day):
        return count_facts(business, start, campaign_id=campaign_id)
    stale = {
        day
        for day in late_days(business, state.checked_at - MARGIN)
        if day <= state.counted_through and (first_day is None or day >= first_day)
    }
    counted = DailyCount.objects.filter(business=business, day__lte=state.counted_through)
    if first_day is not None:
        counted = counted.filter(day__gte=first_day)
    if campaign_id is not None:
        counted = counted.filter(campaign_id=campaign_id)
    counted = counted.exclude(day__in=stale)
    facts = (
        [Fact(row["day"], *(row[k] for k in KEY), row["count"]) for row in counted.values()]
        if by_day
        else [
            Fact(first_day, *(row[k] for k in KEY), row["n"])
            for row in counted.values(*KEY).annotate(n=Sum("count"))
        ]
    )
    for day in stale:
        facts += count_facts(
            business,
            local_midnight(business, day),
            local_midnight(business, day + timedelta(days=1)),
            campaign_id=campaign_id,
        )
    open_from = local_midnight(business, state.counted_through + timedelta(days=1))
    return facts + count_facts(business, max(open_from, start), campaign_id=campaign_id)


def totals(facts: list[Fact], *by: str) -> Counter:
    """Sum `facts` by fact and the given Fact fields: totals(f, "day")[("sent", day)]."""
    summed: Counter = Counter()
    for fact in facts:
        summed[(fact.fact, *(getattr(fact, name) for name in by))] += fact.count
    return summed
