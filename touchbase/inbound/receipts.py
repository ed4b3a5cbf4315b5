"""What providers tell us about what we sent: Twilio status callbacks and email provider
events (django-anymail). Receipts go on the delivery; permanent failures update the customer.
"""

import hashlib
import json
from datetime import datetime

from anymail.signals import AnymailTrackingEvent
from django.core.exceptions import ValidationError
from django.db import transaction

from touchbase import clock
from touchbase.channels import Channel
from touchbase.customers.models import Customer
from touchbase.customers.services import (
    record_email_bounce,
    record_email_opt_out,
)
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.delivery.provider_errors import apply_to_customer, classify_twilio
from touchbase.delivery.services import (
    EMAIL_EVENTS_FAILED,
    EMAIL_EVENTS_SENT,
    SMS_STATUSES_FAILED,
    resolve_uncertain,
)
from touchbase.inbound.events import customer_of, store_event
from touchbase.inbound.models import Event

# --- Twilio status callbacks ----------------------------------------------------------------

# Later states never give way to earlier ones (callbacks can arrive out of order).
SMS_RECEIPT_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "read": 4,
    "canceled": 3,
}


def _advance_receipt(delivery: Delivery, status: str, rank: dict[str, int], now: datetime) -> None:
    if rank.get(status, 0) >= rank.get(delivery.receipt_status, -1):
        delivery.receipt_status = status[:20]
        delivery.receipt_at = now
        delivery.save(update_fields=["receipt_status", "receipt_at", "updated_at"])


def handle_sms_status(
    *,
    message_sid: str,
    status: str,
    error_code: str = "",
    error_message: str = "",
    delivery_id: str = "",
) -> Delivery | None:
    """A Twilio status callback: the delivery receipt goes on the delivery; undelivered or
    failed with a permanent code updates the customer exactly as the worker does
    (`provider_errors`). Stored once per (MessageSid, status). Returns the delivery, or
    None when none matches.

    The delivery is the one the callback URL names (`?delivery=<id>`, which the worker adds
    and Twilio signs with the URL) when it carries this MessageSid or none yet (a callback
    can arrive before the worker has stored the SID Twilio returned); else the one carrying
    this MessageSid."""
    message_sid = (message_sid or "").strip()
    status = (status or "").strip().lower()
    if not message_sid:
        raise ValidationError({"MessageSid": "is required"})
    if status not in SMS_RECEIPT_RANK:
        raise ValidationError(
            {"MessageStatus": f"{status!r} is not one of: {', '.join(SMS_RECEIPT_RANK)}"}
        )
    now = clock.now()
    with transaction.atomic():
        deliveries = Delivery.objects.select_for_update(of=("self",)).select_related(
            "business", "enrollment__customer"
        )
        delivery = None
        if delivery_id.isdigit():  # by primary key: no scan of the delivery table
            delivery = deliveries.filter(
                pk=int(delivery_id),
                channel=Channel.SMS,
                provider_message_id__in=[message_sid, ""],
            ).first()
        if delivery is None:
            delivery = deliveries.filter(
                channel=Channel.SMS, provider_message_id=message_sid
            ).first()
        customer = customer_of(delivery) if delivery else None
        event = store_event(
            source="twilio",
            external_id=f"{message_sid}:{status}",
            kind=f"sms_{status}",
            business=delivery.business if delivery else None,
            delivery=delivery,
            customer=customer,
            payload={"status": status, "error_code": error_code, "error_message": error_message},
            occurred_at=now,
        )
        if event is None or delivery is None:
            return delivery
        if delivery.status == DeliveryStatus.UNCERTAIN:  # the callback proves what happened
            resolve_uncertain(
                delivery=delivery,
                sent=status not in SMS_STATUSES_FAILED,
                provider_message_id=message_sid,
                error_code=str(error_code),
                error_message=error_message,
            )
        _advance_receipt(delivery, status, SMS_RECEIPT_RANK, now)
        if status in ("undelivered", "failed") and error_code:
            error = classify_twilio(error_code)
            if not delivery.error_code:
                delivery.error_code = str(error_code)[:40]
                delivery.error_message = error_message or error.description
                delivery.save(update_fields=["error_code", "error_message", "updated_at"])
            if error.permanent and customer is not None:
                apply_to_customer(customer, error)
    return delivery


# --- Email provider events (django-anymail) -------------------------------------------------

EMAIL_RECEIPT_RANK = {
    "queued": 0,
    "sent": 1,
    "deferred": 2,
    "delivered": 3,
    "rejected": 3,
    "failed": 3,
    "bounced": 4,
    "complained": 5,
}
# Bounce types that are temporary although the ESP reports them as bounces.
SOFT_BOUNCE_TYPES = {"SoftBounce", "Transient", "DnsError", "blocked"}
# A rejection for one of these reasons means the address itself is bad.
HARD_REJECT_REASONS = {"invalid", "bounced"}


def _is_hard_bounce(event: AnymailTrackingEvent) -> bool:
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    if event.event_type == "bounced":
        soft = (
            raw.get("Type") in SOFT_BOUNCE_TYPES  # Postmark
            or raw.get("type") in SOFT_BOUNCE_TYPES  # SendGrid
            or raw.get("hard_bounce") is False  # Mailjet
        )
        return not soft
    return event.event_type == "rejected" and event.reject_reason in HARD_REJECT_REASONS


def _email_event_id(event: AnymailTrackingEvent, esp_name: str) -> str:
    if event.event_id:
        return f"{esp_name.lower()}:{event.event_id}"
    # Some events (Postmark deliveries) carry no id: the payload itself is the identity.
    raw = json.dumps(event.esp_event, sort_keys=True, default=str)
    return f"{esp_name.lower()}:sha256:{hashlib.sha256(raw.encode()).hexdigest()}"


def _delivery_for_email(event: AnymailTrackingEvent) -> Delivery | None:
    deliveries = Delivery.objects.select_related("business", "enrollment__customer").filter(
        channel=Channel.EMAIL
    )
    # The worker sends metadata {"delivery_id": ...}; the ESP returns it with every event.
    delivery_id = str((event.metadata or {}).get("delivery_id", ""))
    if delivery_id.isdigit():
        return deliveries.filter(pk=int(delivery_id)).first()
    if event.message_id:
        return deliveries.filter(provider_message_id=event.message_id).first()
    return None


def _email_customers(event: AnymailTrackingEvent, delivery: Delivery | None) -> list[Customer]:
    """Whom the event is about: the delivery's customer when the address still matches; else
    (no delivery found) every customer with the address, since a bounce or complaint is a
    fact about the address."""
    recipient = (event.recipient or "").strip().lower()
    if delivery is not None:
        customer = customer_of(delivery)
        if customer is not None and (not recipient or customer.email.lower() == recipient):
            return [customer]
        return []
    if not recipient:
        return []
    return list(Customer.objects.filter(email__iexact=recipient))


def handle_email_event(*, event: AnymailTrackingEvent, esp_name: str) -> Event | None:
    """An ESP tracking event normalised by django-anymail. Delivered/bounced/complained go on
    the delivery's receipt; a hard bounce marks the address undeliverable (email touches are
    skipped); a complaint or an unsubscribe opts the customer out of email (and stops the
    sequence when nothing else can reach them). Stored once per ESP event; None on replay."""
    delivery = _delivery_for_email(event)
    customers = _email_customers(event, delivery)
    now = clock.now()
    business = delivery.business if delivery else None
    if business is None and customers:
        business = customers[0].business
    with transaction.atomic():
        stored = store_event(
            source="anymail",
            external_id=_email_event_id(event, esp_name),
            kind=f"email_{event.event_type}",
            business=business,
            delivery=delivery,
            customer=customers[0] if customers else None,
            payload={
                "esp": esp_name,
                "event_type": event.event_type,
                "recipient": event.recipient,
                "message_id": event.message_id,
                "reject_reason": event.reject_reason,
                "description": (event.description or "")[:500],
                "mta_response": (event.mta_response or "")[:500],
            },
            occurred_at=event.timestamp or now,
        )
        if stored is None:
            return None
        proof = EMAIL_EVENTS_SENT | EMAIL_EVENTS_FAILED
        uncertain = delivery is not None and delivery.status == DeliveryStatus.UNCERTAIN
        if uncertain and event.event_type in proof:
            resolve_uncertain(
                delivery=delivery,
                sent=event.event_type in EMAIL_EVENTS_SENT,
                provider_message_id=event.message_id or "",
                error_code=event.event_type,
                error_message=event.description or event.reject_reason or "",
            )
        if delivery is not None and event.event_type in EMAIL_RECEIPT_RANK:
            _advance_receipt(delivery, event.event_type, EMAIL_RECEIPT_RANK, now)
        for customer in customers:
            if _is_hard_bounce(event):
                record_email_bounce(customer=customer)
            elif event.event_type == "complained":
                record_email_opt_out(customer=customer, reason="complaint")
            elif event.event_type == "unsubscribed":
                record_email_opt_out(customer=customer, reason="unsubscribe")
    return stored
