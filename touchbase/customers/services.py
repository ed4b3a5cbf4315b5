"""Writes on customers: create, update, delete, consent. Errors name the field at fault."""

from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from touchbase import clock
from touchbase.customers.models import (
    ConsentRecord,
    ConsentSource,
    Customer,
    SmsConsent,
    SmsSuppression,
)
from touchbase.languages import parse_language, unknown_language_message
from touchbase.tenancy.models import Business
from touchbase.validation import validate_time_zone
from touchbase.webhooks.events import emit_opt_out


def normalize_phone(raw: str, *, region: str | None = None) -> str:
    """E.164 form of `raw` ('' stays ''), or ValidationError naming the `phone` field."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region or settings.TOUCHBASE_DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError({"phone": f"{raw!r} is not a valid phone number"})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    email = (raw or "").strip()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": f"{email!r} is not a valid email address"}) from None
    # Lower case as a whole: the matching rule treats PAT@x.com and pat@x.com as one person.
    return email.lower()


def clean_customer_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Normalise and validate every field given (name, email, phone, time_zone, language);
    collect all problems into one error naming each bad field."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in fields.items():
        try:
            if name == "name":
                value = (value or "").strip()
                if not value:
                    raise ValidationError({"name": "is required"})
                if len(value) > 200:
                    raise ValidationError({"name": "is longer than 200 characters"})
            elif name == "email":
                value = normalize_email(value)
            elif name == "phone":
                value = normalize_phone(value)
            elif name == "time_zone":
                value = (value or "").strip()
                if value:
                    try:
                        validate_time_zone(value)
                    except ValidationError as exc:
                        raise ValidationError({"time_zone": exc.messages[0]}) from None
            elif name == "language":  # "" is the business's default customer language
                raw, value = value, parse_language(value)
                if value is None:
                    raise ValidationError({"language": unknown_language_message(raw)})
            else:
                raise ValidationError({name: "is not a customer field that can be set"})
        except ValidationError as exc:
            errors.update({key: msgs[0] for key, msgs in exc.message_dict.items()})
            continue
        cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def build_customer(
    business: Business, fields: dict[str, Any], *, suppressed: bool, now
) -> Customer:
    """A new, unsaved customer from cleaned fields (create_customer and bulk intake)."""
    customer = Customer(business=business, **fields)
    if customer.phone and suppressed:
        # The number texted STOP before (perhaps as another customer): keep it revoked.
        customer.sms_consent = SmsConsent.REVOKED
        customer.sms_consent_changed_at = now
    return customer


def consent_record(
    customer: Customer, *, granted: bool, source: str, disclosure_text: str, recorded_by: str, now
) -> ConsentRecord:
    """The unsaved consent record of an opt-in or opt-out (PRODUCT §8)."""
    return ConsentRecord(
        business_id=customer.business_id,
        customer=customer,
        phone=customer.phone,
        action=ConsentRecord.Action.OPT_IN if granted else ConsentRecord.Action.OPT_OUT,
        source=source,
        disclosure_text=disclosure_text,
        recorded_by=recorded_by,
        created_at=now,
    )


def create_customer(
    *,
    business: Business,
    name: str,
    email: str = "",
    phone: str = "",
    time_zone: str = "",
    language: str = "",
    sms_consent: bool = False,
    consent_source: str = ConsentSource.FORM,
    consent_disclosure: str = "",
    recorded_by: str = "",
) -> Customer:
    fields = clean_customer_fields(
        {
            "name": name,
            "email": email,
            "phone": phone,
            "time_zone": time_zone,
            "language": language,
        }
    )
    with transaction.atomic():
        suppressed = bool(fields.get("phone")) and is_suppressed(
            business=business, phone=fields["phone"]
        )
        customer = build_customer(business, fields, suppressed=suppressed, now=clock.now())
        customer.save()
        if sms_consent and customer.phone:
            record_sms_consent(
                customer=customer,
                granted=True,
                source=consent_source,
                disclosure_text=consent_disclosure,
                recorded_by=recorded_by,
            )
    return customer


def update_customer(*, customer: Customer, **changes: Any) -> Customer:
    fields = clean_customer_fields(changes)
    with transaction.atomic():
        phone_changed = "phone" in fields and fields["phone"] != customer.phone
        for name, value in fields.items():
            setattr(customer, name, value)
        if phone_changed:
            # Consent and reachability belong to a number, not to the person.
            customer.sms_consent = SmsConsent.UNKNOWN
            customer.sms_consent_changed_at = clock.now()
            customer.phone_unusable = ""
        customer.save()
    return customer


def is_suppressed(*, business: Business, phone: str) -> bool:
    return SmsSuppression.objects.filter(business=business, phone=phone).exists()


def record_sms_consent(
    *,
    customer: Customer,
    granted: bool,
    source: str,
    disclosure_text: str = "",
    recorded_by: str = "",
) -> ConsentRecord:
    """Grant or revoke SMS consent and write the consent record (PRODUCT §8).

    An opt-out also puts the number on the business's suppression list; an opt-in through a
    keyword (START) takes it off. Other opt-ins never lift a suppression a customer asked
    for by keyword or through the carrier.
    """
    if not customer.phone:
        raise ValidationError({"phone": "a customer without a phone number cannot consent to SMS"})
    now = clock.now()
    with transaction.atomic():
        suppressed = SmsSuppression.objects.filter(
            business_id=customer.business_id, phone=customer.phone
        )
        if granted and source not in (ConsentSource.KEYWORD,) and suppressed.exists():
            raise ValidationError(
                {
                    "sms_consent": "this number opted out by text message; only the customer "
                    "can opt back in (by replying START)"
                }
            )
        customer.sms_consent = SmsConsent.GRANTED if granted else SmsConsent.REVOKED
        customer.sms_consent_changed_at = now
        customer.save(update_fields=["sms_consent", "sms_consent_changed_at", "updated_at"])
        if granted:
            suppressed.delete()
        else:
            SmsSuppression.objects.get_or_create(
                business_id=customer.business_id,
                phone=customer.phone,
                defaults={"reason": source, "created_at": now},
            )
        record = consent_record(
            customer,
            granted=granted,
            source=source,
            disclosure_text=disclosure_text,
            recorded_by=recorded_by,
            now=now,
        )
        record.save()
        return record


def delete_customer(*, customer: Customer) -> None:
    """Stop the customer's sequences (nothing further is sent), then delete the customer.
    Enrollment and delivery history stay, detached; consent records and suppressions stay."""
    from touchbase.campaigns.enrollment import stop_enrollments
    from touchbase.campaigns.models import LIVE_ENROLLMENT_STATUSES, StopReason

    with transaction.atomic():
        stop_enrollments(
            customer.enrollments.filter(status__in=LIVE_ENROLLMENT_STATUSES),
            reason=StopReason.CUSTOMER_DELETED,
        )
        customer.delete()


def record_email_opt_out(*, customer: Customer, reason: str = "unsubscribe") -> bool:
    """Unsubscribe or spam complaint: no more email, at once. Stops the live sequence when
    no remaining touch can reach the customer (`opted_out_email`). False if already out."""
    from touchbase.campaigns.enrollment import stop_if_unreachable
    from touchbase.campaigns.models import StopReason

    with transaction.atomic():
        changed = Customer.objects.filter(pk=customer.pk, email_opted_out_at__isnull=True).update(
            email_opted_out_at=clock.now()
        )
        customer.refresh_from_db()
        if changed:
            emit_opt_out(customer, "email", reason)
        stop_if_unreachable(customer=customer, reason=StopReason.OPTED_OUT_EMAIL)
    return bool(changed)


def record_email_resubscribe(*, customer: Customer) -> None:
    Customer.objects.filter(pk=customer.pk).update(email_opted_out_at=None)
    customer.refresh_from_db()


def record_email_bounce(*, customer: Customer) -> None:
    """Hard bounce: the address is undeliverable; email touches are skipped from now on."""
    Customer.objects.filter(pk=customer.pk, email_bounced_at__isnull=True).update(
        email_bounced_at=clock.now()
    )
    customer.refresh_from_db()


def record_sms_opt_out(*, customer: Customer, source: str, disclosure_text: str = "") -> None:
    """STOP keyword or carrier opt-out (Twilio 21610): consent revoked, number suppressed,
    consent record written; the live sequence stops (`opted_out_sms`) when no remaining
    touch can reach the customer."""
    from touchbase.campaigns.enrollment import stop_if_unreachable
    from touchbase.campaigns.models import StopReason

    with transaction.atomic():
        record_sms_consent(
            customer=customer,
            granted=False,
            source=source,
            disclosure_text=disclosure_text,
            recorded_by=source,
        )
        emit_opt_out(customer, "sms", source)
        stop_if_unreachable(customer=customer, reason=StopReason.OPTED_OUT_SMS)


def mark_phone_unusable(*, customer: Customer, reason: str) -> None:
    """The provider says the number can never receive texts (invalid, landline...)."""
    Customer.objects.filter(pk=customer.pk).update(phone_unusable=reason)
    customer.refresh_from_db()
