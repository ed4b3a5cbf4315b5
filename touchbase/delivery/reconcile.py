"""Settling `uncertain` texts from Twilio's own message log (`touchbase reconcile`).

A text is `uncertain` when its provider call got no answer (a hang, a dropped connection, a
worker that died mid-call). Twilio keeps a log of every message it accepted: a message to
the same number with the exact body we stored, sent around the time we called, proves it
went out (its SID and status are recorded); none proves nothing, and the delivery stays for
the owner (Twilio's list can lag, and a resend must never be automatic).
"""

from collections import Counter
from datetime import datetime, timedelta

from touchbase import clock
from touchbase.channels import Channel
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.delivery.services import SMS_STATUSES_FAILED, resolve_uncertain

# Give status callbacks time to settle it first, and Twilio's log time to show the message.
RECONCILE_AFTER = timedelta(minutes=5)
# How far around our call time to look: the call, its timeout and clock skew.
SEARCH_MARGIN = timedelta(minutes=15)


def reconcile_uncertain_sms(
    *, transport, older_than: timedelta = RECONCILE_AFTER, now: datetime | None = None
) -> Counter:
    """Ask `transport` (a TwilioSmsTransport) about every uncertain text that became
    uncertain more than `older_than` ago; returns counts: sent, failed, not_found, errors."""
    now = now or clock.now()
    counts: Counter = Counter()
    uncertain = Delivery.objects.filter(
        status=DeliveryStatus.UNCERTAIN, channel=Channel.SMS, updated_at__lte=now - older_than
    ).exclude(to_address="")
    for delivery in uncertain.order_by("pk").iterator():
        called_at = delivery.sent_at or delivery.updated_at
        try:
            logged = transport.messages_to(
                delivery.to_address,
                after=called_at - SEARCH_MARGIN,
                before=called_at + SEARCH_MARGIN,
            )
        except Exception:
            counts["errors"] += 1
            continue
        claimed = set(
            Delivery.objects.filter(provider_message_id__in=[m.sid for m in logged])
            .exclude(pk=delivery.pk)
            .values_list("provider_message_id", flat=True)
        )
        matches = [m for m in logged if m.body == delivery.body_text and m.sid not in claimed]
        if len(matches) != 1:
            counts["not_found" if not matches else "ambiguous"] += 1
            continue
        message = matches[0]
        sent = (message.status or "") not in SMS_STATUSES_FAILED
        if resolve_uncertain(
            delivery=delivery,
            sent=sent,
            provider_message_id=message.sid,
            error_code=str(message.error_code or ""),
            error_message=message.error_message or "",
        ):
            Delivery.objects.filter(pk=delivery.pk).update(
                receipt_status=(message.status or "")[:20], receipt_at=now
            )
            counts["sent" if sent else "failed"] += 1
    return counts
