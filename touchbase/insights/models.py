"""Daily counts of what happened in a business, so the owner's pages cost the same whatever
the history holds (README, "Insights").

A fact belongs to the local day (in the business's zone) of the moment it happened: a send
to the day its call started, a failure or skip to the day it was due, a click to the day of
the click, a stop or completion to its day (`insights.facts`). The worker counts each fact
once it is more than an hour and a quarter old (`insights.rollup`); the pages add the
last hour or so, and any day changed late, counted live (`insights.selectors`).
"""

from django.db import models

from touchbase.tenancy.models import Business


class DailyCount(models.Model):
    """How many times `fact` happened on `day`, per campaign and touch."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    # A plain id (0: none), not a key: a deleted campaign's history still counts for the
    # business, as the deliveries themselves do.
    campaign_id = models.BigIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0)  # 0: an enrollment fact
    channel = models.CharField(max_length=5, blank=True)
    fact = models.CharField(max_length=20)
    reason = models.CharField(max_length=40, blank=True)  # a stop's reason
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["business", "day", "campaign_id", "position", "channel", "fact", "reason"],
                name="one_daily_count_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.business_id} {self.day} {self.fact}: {self.count}"


class RollupState(models.Model):
    """How far the worker has counted one business: every fact before `counted_until` is in
    DailyCount (days of `time_zone`), and every late change up to `checked_at` was applied."""

    business = models.OneToOneField(Business, on_delete=models.CASCADE, related_name="+")
    time_zone = models.CharField(max_length=64)
    counted_until = models.DateTimeField()
    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.business_id} counted until {self.counted_until:%Y-%m-%d %H:%M}"
