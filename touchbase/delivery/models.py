"""Deliveries: the outbox and the send log in one table.

Only the *next* touch of an enrollment has a row, so touch N+1 cannot be sent before touch N
is resolved: by construction, not by a guard clause. States (README, "Delivery states"):

    pending -> claimed -> sending -> sent | failed        (deferrals go back to pending)
    claimed + lease expired -> pending   (no provider call was made: safe to retry)
    sending + lease expired -> uncertain (outcome unknown: never re-sent automatically)
    pending -> skipped | cancelled;  pending <-> held (campaign paused / resumed)
"""

from django.db import models
from django.db.models import Q

from touchbase.campaigns.models import MAX_TOUCHES, Enrollment
from touchbase.channels import Channel
from touchbase.loading import FastLoad
from touchbase.tenancy.models import Business


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    HELD = "held", "Held (campaign paused)"
    CLAIMED = "claimed", "Claimed"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"
    UNCERTAIN = "uncertain", "Uncertain"


# States in which a delivery has not yet been handed to a worker: stopping an enrollment
# cancels these at once.
UNCLAIMED_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.HELD)
# Decided and waiting for its call: the worker commits `sent_at` just before the call, and
# only while the row is still `sending` and not yet started, so a row taken back from this
# state (a stop, an opt-out, the reaper) is never called.
NOT_YET_CALLED = Q(status=DeliveryStatus.SENDING, sent_at__isnull=True)


class Delivery(FastLoad, models.Model):
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="deliveries")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="deliveries")
    position = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=5, choices=Channel.choices)
    # The anchor: previous touch's scheduled_at + delay; never moved by quiet hours or retries,
    # so a campaign's length is predictable.
    scheduled_at = models.DateTimeField()
    # When the worker may next try: moved by send windows, throttles and retry backoff.
    send_after = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    defer_reason = models.CharField(max_length=40, blank=True)
    skip_reason = models.CharField(max_length=40, blank=True)
    to_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    provider = models.CharField(max_length=40, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    receipt_status = models.CharField(max_length=20, blank=True)
    receipt_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            # The claim query reads only this index; it stays as small as the backlog.
            models.Index(fields=["send_after"], condition=Q(status="pending"), name="delivery_due"),
            models.Index(fields=["business", "-scheduled_at"], name="delivery_business_recent"),
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(status__in=["claimed", "sending"]),
                name="delivery_leased",
            ),
            # Frequency caps look back over a number's recent sends.
            models.Index(
                fields=["to_address", "sent_at"],
                condition=Q(status__in=["sending", "sent", "uncertain"]),
                name="delivery_recent_sends",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "position"], name="one_delivery_per_touch"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="delivery_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(position__gte=1) & Q(position__lte=MAX_TOUCHES),
                name="delivery_position_1_to_4",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["claimed", "sending"]) | Q(lease_expires_at__isnull=False),
                name="delivery_leased_has_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"Delivery #{self.pk} touch {self.position} {self.channel} ({self.status})"


class DeliveryAttempt(models.Model):
    """One provider call: what we asked, what it answered, how long it took."""

    class Outcome(models.TextChoices):
        SENT = "sent", "Sent"
        TRANSIENT = "transient", "Transient error"
        PERMANENT = "permanent", "Permanent error"
        UNKNOWN = "unknown", "Unknown (no answer)"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts_log")
    number = models.PositiveSmallIntegerField()
    provider = models.CharField(max_length=40)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    started_at = models.DateTimeField()
    latency_ms = models.PositiveIntegerField()
    provider_message_id = models.CharField(max_length=255, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    response = models.TextField(blank=True, help_text="The provider's answer, truncated.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="one_attempt_per_number"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of delivery {self.delivery_id}: {self.outcome}"


class SendWindowRule(models.Model):
    """Legal hours for a region (PRODUCT §8), as data so a change needs no deploy.

    `region` is "US" (the federal floor, applied to every US number) or "US-XX" for a state.
    The recipient's window is the intersection of the business's window, the federal rule
    and their state's rule, in their own time zone.
    """

    region = models.CharField(max_length=8, unique=True)
    earliest = models.TimeField()
    latest = models.TimeField()
    no_sundays = models.BooleanField(default=False)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(earliest__lt=models.F("latest")), name="send_window_rule_ordered"
            ),
        ]

    def __str__(self) -> str:
        sundays = ", no Sundays" if self.no_sundays else ""
        return f"{self.region}: {self.earliest:%H:%M}-{self.latest:%H:%M}{sundays}"


class ThrottleState(models.Model):
    """Pacing state of one business's channel: the theoretical arrival time of the next send
    (GCRA). Sends are spaced 3600/limit seconds apart, with a small burst allowance."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=5, choices=Channel.choices)
    next_slot_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["business", "channel"], name="one_throttle_per_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.business_id}/{self.channel} next slot {self.next_slot_at:%H:%M:%S}"


class AreaCodeState(models.Model):
    """The US state of a North American area code, for the state send-window rules.

    Filled by a data migration from `phonenumbers`' geocoder, so workers need not load the
    geocoder (about 100 MB of data) to learn that 305 is Florida; editable in the admin.
    """

    area_code = models.CharField(max_length=3, unique=True)
    state = models.CharField(max_length=2)

    def __str__(self) -> str:
        return f"{self.area_code}: {self.state}"
