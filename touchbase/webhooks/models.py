"""Outbound webhooks: where a business wants to hear about events, and what we sent there.

A WebhookMessage is the outbox row: one per event and endpoint, written in the transaction of
the change that caused it, delivered by the worker at least once. Its `message_id` is the
Standard Webhooks `webhook-id`: the same on every retry and replay, so receivers can
deduplicate. Each HTTP try is a WebhookAttempt (status code, latency, the answer's start).
"""

from django.db import models
from django.db.models import Q

from touchbase.tenancy.models import Business

EVENT_TYPES = (
    "enrollment.created",
    "enrollment.stopped",
    "enrollment.completed",
    "delivery.sent",
    "delivery.failed",
    "delivery.uncertain",
    "review_link.clicked",
    "customer.opted_out",
    "reply.received",
    "feedback.received",
)


class WebhookEndpoint(models.Model):
    business = models.ForeignKey(
        Business, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    # Event types this endpoint receives; empty: every type.
    events = models.JSONField(default=list, blank=True)
    secret = models.CharField(max_length=100, editable=False)  # whsec_<base64>
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["business"], condition=Q(disabled_at__isnull=True), name="endpoint_live"
            )
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class WebhookMessage(models.Model):
    # Few indexes: every send writes rows here. The endpoint is covered by the log index
    # below; by business is only read when a business is deleted.
    business = models.ForeignKey(
        Business, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    # webhook-id: msg_<random uuid hex>; shared by the endpoints that get the same event.
    message_id = models.CharField(max_length=40)
    event_type = models.CharField(max_length=40)
    payload = models.TextField()  # the exact JSON body we sign and send, every time
    created_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_owner = models.CharField(max_length=40, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The worker reads only this index: it stays as small as the backlog.
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_due"
            ),
            models.Index(
                fields=["lease_expires_at"], condition=Q(status="sending"), name="webhook_leased"
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_endpoint_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id} -> {self.endpoint_id}"


class WebhookAttempt(models.Model):
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="tries")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    latency_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    response = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"try {self.number} of message {self.message_id}"
