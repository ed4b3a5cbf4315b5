"""The owner digest: each member's choice (weekly by default), and one row per member and
period that says it was sent, skipped (nothing happened) or failed. That row's unique key is
what makes a digest go out at most once, however many workers run."""

from django.db import models

from touchbase.tenancy.models import Membership


class DigestFrequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly (Monday 08:00)"
    MONTHLY = "monthly", "Monthly (first Monday, 08:00)"
    OFF = "off", "Off"


class DigestPreference(models.Model):
    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="digest_preference"
    )
    frequency = models.CharField(
        max_length=10, choices=DigestFrequency.choices, default=DigestFrequency.WEEKLY
    )

    def __str__(self) -> str:
        return f"{self.membership}: {self.frequency}"


class DigestSent(models.Model):
    class Status(models.TextChoices):
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped (nothing happened)"
        FAILED = "failed", "Failed"

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    frequency = models.CharField(max_length=10, choices=DigestFrequency.choices)
    period_start = models.DateField(help_text="First local day of the period it covers.")
    status = models.CharField(max_length=10, choices=Status.choices)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "digest"
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "frequency", "period_start"], name="digest_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.frequency} digest from {self.period_start} for {self.membership_id}"
