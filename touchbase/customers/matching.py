"""Finding a business's existing customer by email or phone, and "find or create" for
integrations and CSV import (which must never create the same person twice)."""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from touchbase.customers.models import ConsentSource, Customer, SmsConsent
from touchbase.customers.services import (
    clean_customer_fields,
    create_customer,
    record_sms_consent,
    update_customer,
)
from touchbase.tenancy.models import Business


@dataclass(frozen=True)
class CustomerMatch:
    customer: Customer
    created: bool
    changed: bool = False


def _normalized(email: str, phone: str) -> tuple[str, str]:
    cleaned = clean_customer_fields({"email": email, "phone": phone})
    return cleaned["email"], cleaned["phone"]


def find_customer(*, business: Business, email: str = "", phone: str = "") -> Customer | None:
    """The business's customer with this email, else with this phone (both normalised, both
    indexed lookups); the oldest one when several match."""
    return _find(business, *_normalized(email, phone))


def _find(business: Business, email: str, phone: str) -> Customer | None:
    """find_customer for values already normalised."""
    if not email and not phone:
        return None
    wanted = (Q(email=email) if email else Q()) | (Q(phone=phone) if phone else Q())
    candidates = list(Customer.objects.filter(wanted, business=business).order_by("pk")[:50])
    by_email = [customer for customer in candidates if email and customer.email == email]
    return (by_email or candidates or [None])[0]


def match_or_create_customer(
    *,
    business: Business,
    name: str,
    email: str = "",
    phone: str = "",
    time_zone: str = "",
    sms_consent: bool = False,
    consent_source: str = ConsentSource.API,
    consent_disclosure: str = "",
    recorded_by: str = "",
    update_existing: bool = True,
) -> CustomerMatch:
    """The customer matched by email, then phone; created when none matches.

    A matched customer takes the non-empty values given (name, email, phone, time zone) when
    `update_existing`; SMS consent is only ever added here, never revoked. Creation is
    serialised per business (a no-key row lock on the business on PostgreSQL, the
    IMMEDIATE write lock on SQLite) so two concurrent requests for a new person create one.
    """
    email, phone = _normalized(email, phone)
    if not email and not phone:
        raise ValidationError({"email": "an email or a phone number is required to match"})
    customer = _find(business, email, phone)
    created = False
    if customer is None:
        with transaction.atomic():
            Business.objects.select_for_update(no_key=True).filter(pk=business.pk).first()
            customer = _find(business, email, phone)
            if customer is None:
                customer = create_customer(
                    business=business,
                    name=name,
                    email=email,
                    phone=phone,
                    time_zone=time_zone,
                    sms_consent=sms_consent,
                    consent_source=consent_source,
                    consent_disclosure=consent_disclosure,
                    recorded_by=recorded_by,
                )
                created = True
    if created:
        return CustomerMatch(customer, created=True)
    changed = False
    if update_existing:
        given: dict[str, Any] = {"name": name, "email": email, "phone": phone}
        if time_zone:
            given["time_zone"] = time_zone
        changes = {
            field: value
            for field, value in given.items()
            if value and value.strip() != getattr(customer, field)
        }
        if changes:
            update_customer(customer=customer, **changes)
            changed = True
    if sms_consent and customer.phone and customer.sms_consent == SmsConsent.UNKNOWN:
        record_sms_consent(
            customer=customer,
            granted=True,
            source=consent_source,
            disclosure_text=consent_disclosure,
            recorded_by=recorded_by,
        )
        changed = True
    return CustomerMatch(customer, created=False, changed=changed)
