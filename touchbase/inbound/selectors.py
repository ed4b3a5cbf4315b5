"""Reads shared by the inbound views and the owner's pages."""

from django.db.models import QuerySet

from touchbase.channels import Channel
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.inbound.links import read_token
from touchbase.inbound.models import Feedback, InboundSms
from touchbase.tenancy.models import Business


def delivery_for_token(token: str, purpose: str) -> Delivery | None:
    """The delivery a tracked-link token names; None when forged, tampered or unknown."""
    delivery_id = read_token(token, purpose)
    if delivery_id is None:
        return None
    return (
        Delivery.objects.select_related("business", "enrollment", "enrollment__customer")
        .filter(pk=delivery_id)
        .first()
    )


def latest_sms_delivery_to(phone: str) -> Delivery | None:
    """The last text we sent to `phone`: a reply is most likely an answer to it."""
    return (
        Delivery.objects.select_related("business", "enrollment", "enrollment__customer")
        # The statuses of the worker's `delivery_recent_sends` index, which this query reads.
        .filter(
            to_address=phone,
            status__in=[DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.UNCERTAIN],
            channel=Channel.SMS,
            sent_at__isnull=False,
        )
        .order_by("-sent_at")
        .first()
    )


def texts_needing_attention(business: Business) -> QuerySet[InboundSms]:
    """Replies that read like a request to stop but are not a keyword (PRODUCT §8)."""
    return InboundSms.objects.filter(business=business, needs_attention=True).order_by(
        "-received_at"
    )


def recent_replies(business: Business) -> QuerySet[InboundSms]:
    return InboundSms.objects.filter(business=business).order_by("-received_at")


def recent_feedback(business: Business) -> QuerySet[Feedback]:
    return Feedback.objects.filter(business=business).order_by("-created_at")
