"""The facts of a period for the owner's pages: the worker's daily counts for what it has
counted (everything older than an hour and a quarter, normally), and a live count
(`facts.count_facts`, the same rule) of the rest and of any day a late change touched since
the worker last looked. So the numbers are exactly what counting the rows would give, at
the cost of an hour or so of rows."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from django.db.models import Sum

from touchbase.insights.facts import KEY, Fact, count_facts, late_days, local_midnight
from touchbase.insights.models import DailyCount, RollupState
from touchbase.insights.rollup import MARGIN
from touchbase.tenancy.models import Business

BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


def facts_since(
    business: Business,
    first_day: date | None,
    *,
    campaign_id: int | None = None,
    by_day: bool = True,
) -> list[Fact]:
    """Every fact from the local day `first_day` (None: all time) until now; with
    `by_day=False` the counted days are summed (their `day` is then `first_day`)."""
    return facts_since_each(business, [first_day], campaign_id=campaign_id, by_day=by_day)[0]


def facts_since_each(
    business: Business,
    first_days: list[date | None],
    *,
    campaign_id: int | None = None,
    by_day: bool = True,
) -> list[list[Fact]]:
    """facts_since for each of `first_days`, reading the state, the late changes and the
    live part (the same for every period: what the counts do not hold yet) only once."""
    state = RollupState.objects.filter(business=business, time_zone=business.time_zone).first()
    live: dict[datetime, list[Fact]] = {}

    def live_from(start: datetime) -> list[Fact]:
        if start not in live:
            live[start] = count_facts(business, start, campaign_id=campaign_id)
        return list(live[start])

    late: set[date] | None = None
    results = []
    for first_day in first_days:
        start = local_midnight(business, first_day) if first_day else BEGINNING
        if state is None or state.counted_until <= start:
            results.append(live_from(start))
            continue
        counted_until = state.counted_until
        if late is None:
            late = late_days(business, state.checked_at - MARGIN)
        stale = {
            day
            for day in late
            if (first_day is None or day >= first_day)
            and local_midnight(business, day) < counted_until
        }
        counted = DailyCount.objects.filter(business=business).exclude(day__in=stale)
        if first_day is not None:
            counted = counted.filter(day__gte=first_day)
        if campaign_id is not None:
            counted = counted.filter(campaign_id=campaign_id)
        if by_day:
            facts = [Fact(*(row[k] for k in KEY), row["count"]) for row in counted.values()]
        else:
            summed = counted.values(*KEY[1:]).annotate(n=Sum("count"))
            facts = [Fact(first_day, *(row[k] for k in KEY[1:]), row["n"]) for row in summed]
        for day in sorted(stale):
            end = min(local_midnight(business, day + timedelta(days=1)), counted_until)
            facts += count_facts(
                business, local_midnight(business, day), end, campaign_id=campaign_id
            )
        results.append(facts + live_from(counted_until))
    return results


def totals(facts: list[Fact], *by: str) -> Counter:
    """Sum `facts` by fact and the given Fact fields: totals(f, "day")[("sent", day)]."""
    summed: Counter = Counter()
    for fact in facts:
        summed[(fact.fact, *(getattr(fact, name) for name in by))] += fact.count
    return summed
