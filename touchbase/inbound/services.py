"""Inbound events (PRODUCT §4, §8): what comes back from customers and providers.

One public function per event. Each stores its fact once as an Event keyed by our token or
the provider's id, inside the transaction that acts on it, so a replay (a second click, a
webhook delivered twice) finds the row and changes nothing. State changes go through the
customer, job and enrollment services, exactly as the web app and API do.
"""

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from anymail.signals import AnymailTrackingEvent
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_datetime

from touchbase import clock
from touchbase.campaigns.enrollment import EnrollmentResult, stop_enrollment, stop_enrollments
from touchbase.campaigns.models import LIVE_ENROLLMENT_STATUSES, MAX_TOUCHES, StopReason
from touchbase.channels import Channel
from touchbase.customers.models import ConsentSource, Customer, SmsConsent
from touchbase.customers.services import (
    create_customer,
    is_suppressed,
    normalize_email,
    normalize_phone,
    record_email_bounce,
    record_email_opt_out,
    record_email_resubscribe,
    record_sms_consent,
    record_sms_opt_out,
    update_customer,
)
from touchbase.delivery.models import Delivery
from touchbase.delivery.provider_errors import apply_to_customer, classify_twilio
from touchbase.inbound import keywords
from touchbase.inbound.models import Event, Feedback, InboundSms, SmsIntent
from touchbase.inbound.scanners import scanner_reason
from touchbase.inbound.selectors import latest_sms_delivery_to
from touchbase.jobs.models import Job, JobStatus
from touchbase.jobs.services import JobResult, create_job, update_job
from touchbase.service_types import parse_service_type, unknown_service_type_message
from touchbase.tenancy.models import Business
from touchbase.webhooks.events import emit_delivery_events, emit_reply

logger = logging.getLogger(__name__)

FEEDBACK_MAX_LENGTH = 5000
CONFIRMATION_INTERVAL = timedelta(minutes=5)


def _store_event(
    *,
    source: str,
    external_id: str,
    kind: str,
    business: Business | None = None,
    delivery: Delivery | None = None,
    customer: Customer | None = None,
    payload: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> Event | None:
    """Store an inbound fact; None when it was stored before (a replay)."""
    try:
        with transaction.atomic():
            return Event.objects.create(
                business=business,
                source=source,
                external_id=external_id[:255],
                kind=kind[:40],
                delivery=delivery,
                enrollment_id=delivery.enrollment_id if delivery else None,
                customer=customer,
                payload=payload or {},
                occurred_at=occurred_at or clock.now(),
            )
    except IntegrityError:
        return None


def _customer_of(delivery: Delivery) -> Customer | None:
    return delivery.enrollment.customer if delivery.enrollment_id else None


# --- Tracked review link (/r/) --------------------------------------------------------------


@dataclass(frozen=True)
class ClickResult:
    destination: str  # the business's review page; "" when it has none
    scanner: str | None  # why the fetch looked like a scanner, else None
    first: bool  # the first click (or the first scan) of this link
    stopped: bool  # this click stopped the enrollment (review_clicked)


def record_click(*, delivery: Delivery, method: str = "GET", user_agent: str = "") -> ClickResult:
    """A fetch of a review link. The customer's first click stops the enrollment with
    `review_clicked`; a scanner's fetch is recorded once and stops nothing; later clicks
    change nothing. Either way the caller redirects to the review page."""
    now = clock.now()
    scanner = scanner_reason(
        method=method, user_agent=user_agent, sent_at=delivery.sent_at, now=now
    )
    kind = "review_link_scanned" if scanner else "review_clicked"
    stopped = False
    with transaction.atomic():
        event = _store_event(
            source="touchbase",
            external_id=f"{kind}:{delivery.pk}",
            kind=kind,
            business=delivery.business,
            delivery=delivery,
            customer=_customer_of(delivery),
            payload={"user_agent": user_agent[:300], "method": method, "scanner": scanner},
            occurred_at=now,
        )
        if event is not None and not scanner:
            stopped = stop_enrollment(
                enrollment=delivery.enrollment, reason=StopReason.REVIEW_CLICKED
            )
            emit_delivery_events([delivery], type="review_link.clicked")
    return ClickResult(
        destination=delivery.business.review_link,
        scanner=scanner,
        first=event is not None,
        stopped=stopped,
    )


# --- Private feedback (/f/) -----------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackResult:
    feedback: Feedback
    created: bool  # False: feedback for this message had already been received


def record_feedback(*, delivery: Delivery, message: str) -> FeedbackResult:
    """Store the customer's private feedback for the owner and stop the enrollment
    (`feedback_submitted`). One feedback per message; a second submission changes nothing."""
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": "please write a few words before sending"})
    if len(message) > FEEDBACK_MAX_LENGTH:
        raise ValidationError(
            {"message": f"is longer than {FEEDBACK_MAX_LENGTH} characters ({len(message)})"}
        )
    existing = Feedback.objects.filter(delivery=delivery).first()
    if existing is not None:
        return FeedbackResult(existing, created=False)
    now = clock.now()
    customer = _customer_of(delivery)
    try:
        with transaction.atomic():
            feedback = Feedback.objects.create(
                business=delivery.business,
                delivery=delivery,
                enrollment=delivery.enrollment,
                customer=customer,
                message=message,
                created_at=now,
            )
            _store_event(
                source="touchbase",
                external_id=f"feedback_submitted:{delivery.pk}",
                kind="feedback_submitted",
                business=delivery.business,
                delivery=delivery,
                customer=customer,
                occurred_at=now,
            )
            stop_enrollment(enrollment=delivery.enrollment, reason=StopReason.FEEDBACK_SUBMITTED)
            emit_delivery_events(
                [delivery], "feedback.received", feedback_id=feedback.pk, message=message
            )
    except IntegrityError:  # a concurrent submission for the same message won
        return FeedbackResult(Feedback.objects.get(delivery=delivery), created=False)
    return FeedbackResult(feedback, created=True)


# --- Email unsubscribe (/u/) ----------------------------------------------------------------


def record_unsubscribe(*, delivery: Delivery) -> bool:
    """Opt the customer out of email at once (link or RFC 8058 one-click); stops the sequence
    when no remaining touch can reach them. False when they already were out."""
    customer = _customer_of(delivery)
    if customer is None:
        return False
    with transaction.atomic():
        changed = record_email_opt_out(customer=customer, reason="unsubscribe")
        if changed:
            opted_out_at = customer.email_opted_out_at.isoformat()
            _store_event(
                source="touchbase",
                external_id=f"email_unsubscribed:{delivery.pk}:{opted_out_at}",
                kind="email_unsubscribed",
                business=delivery.business,
                delivery=delivery,
                customer=customer,
            )
    return changed


def record_resubscribe(*, delivery: Delivery) -> bool:
    """Undo an unsubscribe from the same page. False when the customer was not opted out."""
    customer = _customer_of(delivery)
    if customer is None or customer.email_opted_out_at is None:
        return False
    now = clock.now()
    with transaction.atomic():
        record_email_resubscribe(customer=customer)
        _store_event(
            source="touchbase",
            external_id=f"email_resubscribed:{delivery.pk}:{now.isoformat()}",
            kind="email_resubscribed",
            business=delivery.business,
            delivery=delivery,
            customer=customer,
            occurred_at=now,
        )
    return True


# --- Twilio inbound SMS ---------------------------------------------------------------------


@dataclass(frozen=True)
class SmsResult:
    message: InboundSms
    answer_text: str  # what to reply with (TwiML); "" for no reply
    replayed: bool = False


def _sender_prefix(business: Business | None) -> str:
    return f"{business.name}: " if business else ""


def _help_text(business: Business | None) -> str:
    contact = ""
    if business is not None:
        contact = business.contact_phone or business.reply_to_email or business.sender_email
    return keywords.HELP_TEXT.format(
        prefix=_sender_prefix(business),
        contact=contact or keywords.HELP_CONTACT_FALLBACK,
        max_messages=MAX_TOUCHES,
    )


def _answered_recently(phone: str, answer: str, now: datetime) -> bool:
    return InboundSms.objects.filter(
        from_number=phone, answer=answer, received_at__gt=now - CONFIRMATION_INTERVAL
    ).exists()


def _normalized_sender(raw: str) -> str:
    try:
        return normalize_phone(raw) or raw.strip()
    except ValidationError:  # a short code or an odd sender id: keep it as given
        return raw.strip()[:20]


def handle_inbound_sms(
    *, message_sid: str, from_number: str, to_number: str = "", body: str = ""
) -> SmsResult:
    """A text a customer sent us (PRODUCT §8).

    1. Stored once per Twilio MessageSid; a replay answers nothing and changes nothing.
    2. The customers are every customer with this number. STOP-type keywords opt the number
       out at every business (a STOP to a shared sending number is a STOP to all of them;
       over-suppressing is the safe direction); START/UNSTOP restore consent where it was
       revoked; HELP answers with the business's name, a contact, the frequency, "Msg & data
       rates may apply" and how to stop.
    3. Any other text is kept for the business that texted this number last and, when that
       business stops on reply (the default), stops the customer's live enrollment with
       `customer_replied`. A text that reads like a request to stop is flagged for the
       owner and always stops the live enrollment, but does not revoke consent.
    4. At most one opt-out (or opt-in) confirmation per number within 5 minutes.
    """
    message_sid = (message_sid or "").strip()
    if not message_sid:
        raise ValidationError({"MessageSid": "is required"})
    if not (from_number or "").strip():
        raise ValidationError({"From": "is required"})
    phone = _normalized_sender(from_number)
    now = clock.now()
    intent = keywords.keyword_intent(body) or SmsIntent.REPLY
    needs_attention = intent == SmsIntent.REPLY and keywords.looks_like_stop_request(body)

    with transaction.atomic():
        existing = InboundSms.objects.filter(provider_message_id=message_sid).first()
        if existing is not None:
            return SmsResult(existing, "", replayed=True)
        # Locking the number's customers makes two texts from one number run one at a time,
        # so two quick STOPs cannot both send a confirmation.
        customers = list(
            Customer.objects.select_for_update().filter(phone=phone).order_by("-created_at")
        )
        last_text = latest_sms_delivery_to(phone)
        business, customer = _conversation(last_text, customers)
        message = InboundSms(
            business=business,
            customer=customer,
            provider_message_id=message_sid[:64],
            from_number=phone,
            to_number=(to_number or "")[:20],
            body=body or "",
            intent=intent,
            needs_attention=needs_attention,
            received_at=now,
        )
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:
            return SmsResult(InboundSms.objects.get(provider_message_id=message_sid), "", True)
        _store_event(
            source="twilio",
            external_id=message_sid,
            kind=f"sms_{intent}",
            business=business,
            customer=customer,
            payload={"from": phone, "to": to_number, "body": (body or "")[:1600]},
            occurred_at=now,
        )

        if intent == SmsIntent.OPT_OUT:
            answer, answer_text = _opt_out(
                customers, phone=phone, body=body, now=now, business=business
            )
        elif intent == SmsIntent.OPT_IN:
            answer, answer_text = _opt_in(
                customers, phone=phone, body=body, now=now, business=business
            )
        elif intent == SmsIntent.HELP:
            answer, answer_text = InboundSms.Answer.HELP, _help_text(business)
        else:
            answer, answer_text = InboundSms.Answer.NONE, ""
            emit_reply(message)
            if customer is not None and (business.stop_on_reply or needs_attention):
                stop_enrollments(
                    customer.enrollments.filter(status__in=LIVE_ENROLLMENT_STATUSES),
                    reason=StopReason.CUSTOMER_REPLIED,
                )
        if answer:
            message.answer, message.answer_text = answer, answer_text
            message.save(update_fields=["answer", "answer_text"])
    return SmsResult(message, answer_text)


def _opt_out(
    customers: list[Customer],
    *,
    phone: str,
    body: str,
    now: datetime,
    business: Business | None,
) -> tuple[str, str]:
    """STOP: revoke and suppress wherever the number is not already out; confirm once."""
    for each in customers:
        if each.sms_consent != SmsConsent.REVOKED or not is_suppressed(
            business=each.business, phone=phone
        ):
            record_sms_opt_out(
                customer=each,
                source=ConsentSource.KEYWORD,
                disclosure_text=f"Customer texted {body.strip()!r}",
            )
    if _answered_recently(phone, InboundSms.Answer.OPT_OUT_CONFIRMATION, now):
        return InboundSms.Answer.NONE, ""
    text = keywords.OPT_OUT_CONFIRMATION.format(prefix=_sender_prefix(business))
    return InboundSms.Answer.OPT_OUT_CONFIRMATION, text


def _opt_in(
    customers: list[Customer],
    *,
    phone: str,
    body: str,
    now: datetime,
    business: Business | None,
) -> tuple[str, str]:
    """START/UNSTOP: restore consent only where it was revoked (never grant it afresh to a
    customer who was never asked); confirm once."""
    text = keywords.OPT_IN_CONFIRMATION.format(prefix=_sender_prefix(business))
    for each in customers:
        if each.sms_consent == SmsConsent.REVOKED or is_suppressed(
            business=each.business, phone=phone
        ):
            record_sms_consent(
                customer=each,
                granted=True,
                source=ConsentSource.KEYWORD,
                disclosure_text=text,
                recorded_by=f"SMS keyword {body.strip()!r}",
            )
    if _answered_recently(phone, InboundSms.Answer.OPT_IN_CONFIRMATION, now):
        return InboundSms.Answer.NONE, ""
    return InboundSms.Answer.OPT_IN_CONFIRMATION, text


def _conversation(
    last_text: Delivery | None, customers: list[Customer]
) -> tuple[Business | None, Customer | None]:
    """Which business and customer a text answers: the business that texted the number last
    (its customer with this number), else the only customer with this number."""
    if last_text is not None:
        business = last_text.business
        mine = [each for each in customers if each.business_id == business.pk]
        sent_to = _customer_of(last_text)
        if sent_to is not None and sent_to in mine:
            return business, sent_to
        return business, mine[0] if mine else None
    if len({each.business_id for each in customers}) == 1:
        return customers[0].business, customers[0]
    return None, None


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
        customer = _customer_of(delivery) if delivery else None
        event = _store_event(
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
        customer = _customer_of(delivery)
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
        stored = _store_event(
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


# --- Job webhook (/hooks/jobs/<business>) ---------------------------------------------------

JOB_FIELDS = {
    "external_id",
    "service_type",
    "status",
    "completed_at",
    "technician_name",
    "notes",
    "enroll",
    "customer",
}
CUSTOMER_FIELDS = {"name", "email", "phone", "time_zone", "sms_consent", "consent_disclosure"}


class ReplayedWebhook(Exception):
    """This exact signed request was received before; nothing was done the second time."""


@dataclass(frozen=True)
class JobWebhookResult:
    job: Job
    created: bool
    enrollment: EnrollmentResult | None
    warnings: list[str] = field(default_factory=list)


def _text(data: dict[str, Any], name: str, errors: dict[str, str], *, prefix: str = "") -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[prefix + name] = "must be a string"
        return ""
    return value.strip()


def _parse_job_payload(data: Any) -> dict[str, Any]:
    """Check the whole body before anything is written; one error naming every bad field."""
    if not isinstance(data, dict):
        raise ValidationError({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    for unknown in sorted(set(data) - JOB_FIELDS):
        errors[unknown] = f"is not a job field; expected some of: {', '.join(sorted(JOB_FIELDS))}"
    parsed: dict[str, Any] = {}
    if isinstance(data.get("external_id"), int) and not isinstance(data["external_id"], bool):
        data = {**data, "external_id": str(data["external_id"])}  # many tools number their jobs
    parsed["external_id"] = _text(data, "external_id", errors)
    if not parsed["external_id"] and "external_id" not in errors:
        errors["external_id"] = "is required (the job's id in your system)"
    elif len(parsed["external_id"]) > 255:
        errors["external_id"] = "is longer than 255 characters"
    if "service_type" in data:
        raw = _text(data, "service_type", errors)
        parsed["service_type"] = parse_service_type(raw)
        if parsed["service_type"] is None and "service_type" not in errors:
            errors["service_type"] = unknown_service_type_message(raw)
    status = _text(data, "status", errors) or JobStatus.COMPLETED
    if status not in JobStatus.values:
        errors["status"] = f"{status!r} is not one of: {', '.join(JobStatus.values)}"
    parsed["status"] = status
    completed_at = _text(data, "completed_at", errors)
    parsed["completed_at"] = None
    if completed_at:
        try:
            moment = parse_datetime(completed_at)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            errors["completed_at"] = "must be an ISO 8601 date-time with a UTC offset"
        elif moment > clock.now() + timedelta(minutes=5):
            errors["completed_at"] = "is in the future"
        parsed["completed_at"] = moment
    for name in ("technician_name", "notes"):
        if name in data:
            parsed[name] = _text(data, name, errors)
    enroll = data.get("enroll", True)
    if not isinstance(enroll, bool):
        errors["enroll"] = "must be true or false"
    parsed["enroll"] = enroll is not False
    customer = data.get("customer")
    parsed["customer"] = None
    if customer is not None:
        if not isinstance(customer, dict):
            errors["customer"] = "must be an object with name, email, phone..."
        else:
            parsed["customer"] = _parse_customer(customer, errors)
    if errors:
        raise ValidationError(errors)
    return parsed


def _parse_customer(data: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    for unknown in sorted(set(data) - CUSTOMER_FIELDS):
        errors[f"customer.{unknown}"] = (
            f"is not a customer field; expected some of: {', '.join(sorted(CUSTOMER_FIELDS))}"
        )
    parsed = {
        name: _text(data, name, errors, prefix="customer.")
        for name in ("name", "email", "phone", "time_zone", "consent_disclosure")
    }
    for name, normalize in (("email", normalize_email), ("phone", normalize_phone)):
        try:
            parsed[name] = normalize(parsed[name])
        except ValidationError as exc:
            errors[f"customer.{name}"] = exc.message_dict[name][0]
    consent = data.get("sms_consent", False)
    if not isinstance(consent, bool):
        errors["customer.sms_consent"] = "must be true or false"
    parsed["sms_consent"] = consent is True
    if parsed["sms_consent"] and not parsed["phone"]:
        errors["customer.sms_consent"] = "needs a phone number"
    return parsed


def _prefixed(exc: ValidationError, prefix: str) -> ValidationError:
    return ValidationError({f"{prefix}{key}": msgs[0] for key, msgs in exc.message_dict.items()})


def _customer_for_job(business: Business, data: dict[str, Any], warnings: list[str]) -> Customer:
    """The business's customer with this phone (else email), filled in where blank; or a
    new customer. Consent is recorded only for a customer who has not decided yet, and never
    over a STOP."""
    found = None
    if data["phone"]:
        found = Customer.objects.filter(business=business, phone=data["phone"]).first()
    if found is None and data["email"]:
        found = Customer.objects.filter(business=business, email__iexact=data["email"]).first()
    suppressed = bool(data["phone"]) and is_suppressed(business=business, phone=data["phone"])
    wants_consent = data["sms_consent"] and not suppressed
    if data["sms_consent"] and suppressed:
        warnings.append(
            "customer.sms_consent: this number opted out by text message; consent not recorded"
        )
    try:
        if found is None:
            if not data["name"]:
                raise ValidationError({"name": "is required for a new customer"})
            return create_customer(
                business=business,
                name=data["name"],
                email=data["email"],
                phone=data["phone"],
                time_zone=data["time_zone"],
                sms_consent=wants_consent,
                consent_source=ConsentSource.API,
                consent_disclosure=data["consent_disclosure"],
                recorded_by="job webhook",
            )
        blanks = {
            name: data[name]
            for name in ("email", "phone", "time_zone")
            if data[name] and not getattr(found, name)
        }
        if blanks:
            update_customer(customer=found, **blanks)
        if wants_consent and found.sms_consent == SmsConsent.UNKNOWN and found.phone:
            record_sms_consent(
                customer=found,
                granted=True,
                source=ConsentSource.API,
                disclosure_text=data["consent_disclosure"],
                recorded_by="job webhook",
            )
        return found
    except ValidationError as exc:
        raise _prefixed(exc, "customer.") from None


def handle_job_webhook(*, business: Business, data: Any, signature: str) -> JobWebhookResult:
    """A field-service tool tells us about a job (PRODUCT §6): create or update it by its
    external id and complete it, enrolling as usual.

    The whole body is checked first; then, in one transaction, the signature is stored (a
    replay raises ReplayedWebhook), the customer is found or created and the job created or
    updated through the jobs services. Any error rolls everything back: nothing is written.
    """
    parsed = _parse_job_payload(data)
    warnings: list[str] = []
    with transaction.atomic():
        stored = _store_event(
            source="job_webhook",
            external_id=f"{business.pk}:{signature}",
            kind="job_webhook",
            business=business,
            payload={"external_id": parsed["external_id"], "status": parsed["status"]},
        )
        if stored is None:
            raise ReplayedWebhook
        job = (
            Job.objects.select_for_update()
            .filter(business=business, external_id=parsed["external_id"])
            .first()
        )
        changes = {name: parsed[name] for name in ("technician_name", "notes") if name in parsed}
        if job is None:
            if not parsed.get("service_type"):
                raise ValidationError({"service_type": "is required for a new job"})
            if parsed["customer"] is None:
                raise ValidationError({"customer": "is required for a new job"})
            customer = _customer_for_job(business, parsed["customer"], warnings)
            result: JobResult = create_job(
                business=business,
                customer=customer,
                service_type=parsed["service_type"],
                status=parsed["status"],
                external_id=parsed["external_id"],
                completed_at=parsed["completed_at"],
                enroll_in_campaign=parsed["enroll"],
                **changes,
            )
            created = True
        else:
            if parsed["customer"] is not None:
                warnings.append("customer: ignored for an existing job (it keeps its customer)")
            if parsed.get("service_type"):
                changes["service_type"] = parsed["service_type"]
            result = update_job(
                job=job, status=parsed["status"], enroll_in_campaign=parsed["enroll"], **changes
            )
            created = False
        stored.payload = {**stored.payload, "job": result.job.pk}
        stored.save(update_fields=["payload"])
    return JobWebhookResult(result.job, created, result.enrollment, warnings)
