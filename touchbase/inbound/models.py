"""Inbound facts: clicks, opt-outs, receipts, bounces, complaints, replies, job webhooks.

Each is stored once, keyed by the provider's event id or our own token, so a replayed
webhook finds its row already there and changes nothing.
"""

from django.db import models

from touchbase.campaigns.models import Enrollment
from touchbase.customers.models import Customer
from touchbase.delivery.models import Delivery
from touchbase.tenancy.models import Business


class Event(models.Model):
    business = models.ForeignKey(
        Business, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    source = models.CharField(max_length=20, help_text="touchbase, twilio, anymail, job_webhook")
    external_id = models.CharField(max_length=255, help_text="Provider event id or our token.")
    kind = models.CharField(max_length=40)
    delivery = models.ForeignKey(
        Delivery, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    payload = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="event_stored_once"),
        ]
        indexes = [models.Index(fields=["business", "-occurred_at"], name="event_business_recent")]

    def __str__(self) -> str:
        return f"{self.source}:{self.kind} {self.external_id}"


class Feedback(models.Model):
    """Private feedback a customer sent the owner from the /f/ page (one per delivery)."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="feedback")
    delivery = models.OneToOneField(
        Delivery, on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback"
    )
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback"
    )
    message = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "feedback"
        indexes = [
            models.Index(fields=["business", "-created_at"], name="feedback_business_recent")
        ]

    def __str__(self) -> str:
        return f"Feedback #{self.pk} from {self.customer_id}"


class SmsIntent(models.TextChoices):
    OPT_OUT = "opt_out", "Opt-out keyword"
    OPT_IN = "opt_in", "Opt-in keyword"
    HELP = "help", "Help keyword"
    REPLY = "reply", "Reply"


class InboundSms(models.Model):
    """A text message a customer sent us (keywords included), kept for the owner.

    `needs_attention` marks a plain-language message that seems to ask to stop ("please stop
    texting me"): not a keyword, so consent is unchanged, but the owner should look.
    `answer` is the text we replied with (TwiML), so "at most one confirmation within
    5 minutes" is a query on this table."""

    class Answer(models.TextChoices):
        NONE = "", "No reply"
        OPT_OUT_CONFIRMATION = "opt_out_confirmation", "Opt-out confirmation"
        OPT_IN_CONFIRMATION = "opt_in_confirmation", "Opt-in confirmation"
        HELP = "help", "Help text"

    business = models.ForeignKey(
        Business, on_delete=models.CASCADE, null=True, blank=True, related_name="inbound_sms"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_sms"
    )
    provider_message_id = models.CharField(max_length=64, unique=True)
    from_number = models.CharField(max_length=20)
    to_number = models.CharField(max_length=20, blank=True)
    body = models.TextField(blank=True)
    intent = models.CharField(max_length=10, choices=SmsIntent.choices)
    needs_attention = models.BooleanField(default=False)
    answer = models.CharField(max_length=24, choices=Answer.choices, blank=True)
    answer_text = models.TextField(blank=True)
    received_at = models.DateTimeField()

    class Meta:
        verbose_name = "inbound SMS"
        verbose_name_plural = "inbound SMS"
        indexes = [
            models.Index(fields=["business", "-received_at"], name="inbound_sms_business_recent"),
            models.Index(fields=["from_number", "-received_at"], name="inbound_sms_from_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(intent__in=SmsIntent.values), name="inbound_sms_intent_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"SMS from {self.from_number} ({self.intent})"


class RateLimitBucket(models.Model):
    """Requests one client address made to one group of public endpoints in one window.

    A fixed-window counter in the database, so every web process shares it (no Redis).
    Old windows are pruned as new ones open, so the table stays as small as the number of
    addresses seen in the last few minutes."""

    key = models.CharField(max_length=100)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="one_bucket_per_window"),
        ]
        indexes = [models.Index(fields=["window_start"], name="rate_bucket_window")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start:%H:%M}: {self.hits}"
