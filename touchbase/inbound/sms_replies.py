"""Text messages customers send us (Twilio inbound SMS): STOP/START/HELP keywords and
replies that may stop a sequence.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from touchbase import clock
from touchbase.campaigns.enrollment import stop_enrollments
from touchbase.campaigns.models import LIVE_ENROLLMENT_STATUSES, MAX_TOUCHES, StopReason
from touchbase.customers.models import ConsentSource, Customer, SmsConsent
from touchbase.customers.services import (
    is_suppressed,
    normalize_phone,
    record_sms_consent,
    record_sms_opt_out,
)
from touchbase.delivery.models import Delivery
from touchbase.inbound import keywords
from touchbase.inbound.events import customer_of, store_event
from touchbase.inbound.models import InboundSms, SmsIntent
from touchbase.inbound.selectors import latest_sms_delivery_to
from touchbase.languages import Language, customer_language
from touchbase.tenancy.models import Business
from touchbase.webhooks.events import emit_reply

CONFIRMATION_INTERVAL = timedelta(minutes=5)


# --- Twilio inbound SMS ---------------------------------------------------------------------


@dataclass(frozen=True)
class SmsResult:
    message: InboundSms
    answer_text: str  # what to reply with (TwiML); "" for no reply
    replayed: bool = False


def _sender_prefix(business: Business | None) -> str:
    return f"{business.name}: " if business else ""


def _answer_language(keyword: str | None, customer: Customer | None, business) -> str:
    """A Spanish keyword is answered in Spanish; any other in the customer's language."""
    if keyword in keywords.SPANISH_KEYWORDS:
        return Language.SPANISH
    return customer_language(customer, business) if customer is not None else Language.ENGLISH


def _touchbase_confirms_opt_out(keyword: str | None) -> bool:
    """One confirmation, never two: Twilio confirms its own words (and, with Advanced
    Opt-Out, every word), touchbase the rest."""
    if settings.TOUCHBASE_TWILIO_ADVANCED_OPT_OUT:
        return False
    return keyword not in keywords.PROVIDER_CONFIRMED_OPT_OUT


def _help_text(business: Business | None) -> str:
    contact = ""
    if business is not None:
        contact = business.contact_phone or business.reply_to_email or business.sender_email
    return str(keywords.HELP_TEXT).format(
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
    4. One opt-out confirmation, never two: Twilio's own words are confirmed by Twilio,
       so touchbase answers only the others (REMOVE, the Spanish words), and nothing when
       the operator says Advanced Opt-Out confirms them all. Keyword answers are in the
       customer's language (a Spanish keyword: Spanish). At most one opt-out (or opt-in)
       confirmation per number within 5 minutes.
    """
    message_sid = (message_sid or "").strip()
    if not message_sid:
        raise ValidationError({"MessageSid": "is required"})
    if not (from_number or "").strip():
        raise ValidationError({"From": "is required"})
    phone = _normalized_sender(from_number)
    now = clock.now()
    keyword = keywords.keyword_of(body)
    intent = keywords.KEYWORDS[keyword] if keyword else SmsIntent.REPLY
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
        store_event(
            source="twilio",
            external_id=message_sid,
            kind=f"sms_{intent}",
            business=business,
            customer=customer,
            payload={"from": phone, "to": to_number, "body": (body or "")[:1600]},
            occurred_at=now,
        )

        with translation.override(_answer_language(keyword, customer, business)):
            if intent == SmsIntent.OPT_OUT:
                answer, answer_text = _opt_out(
                    customers,
                    phone=phone,
                    body=body,
                    now=now,
                    business=business,
                    confirm=_touchbase_confirms_opt_out(keyword),
                )
            elif intent == SmsIntent.OPT_IN:
                answer, answer_text = _opt_in(
                    customers, phone=phone, body=body, now=now, business=business
                )
            elif intent == SmsIntent.HELP:
                answer, answer_text = InboundSms.Answer.HELP, _help_text(business)
        if intent == SmsIntent.REPLY:
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
    confirm: bool,
) -> tuple[str, str]:
    """STOP: revoke and suppress wherever the number is not already out; confirm once
    (when `confirm`: the provider does not)."""
    for each in customers:
        if each.sms_consent != SmsConsent.REVOKED or not is_suppressed(
            business=each.business, phone=phone
        ):
            record_sms_opt_out(
                customer=each,
                source=ConsentSource.KEYWORD,
                disclosure_text=f"Customer texted {body.strip()!r}",
            )
    if not confirm or _answered_recently(phone, InboundSms.Answer.OPT_OUT_CONFIRMATION, now):
        return InboundSms.Answer.NONE, ""
    text = str(keywords.OPT_OUT_CONFIRMATION).format(prefix=_sender_prefix(business))
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
    text = str(keywords.OPT_IN_CONFIRMATION).format(prefix=_sender_prefix(business))
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
        sent_to = customer_of(last_text)
        if sent_to is not None and sent_to in mine:
            return business, sent_to
        return business, mine[0] if mine else None
    if len({each.business_id for each in customers}) == 1:
        return customers[0].business, customers[0]
    return None, None
