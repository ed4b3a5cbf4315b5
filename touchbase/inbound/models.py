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
