"""The one customer-matching rule of every job entry point (API, job webhook, CSV, web form):

1. the business's customer with this email (normalised: stored and compared in lower case),
2. else the one with this phone (E.164),
3. else a new customer - created under a lock on the business (a no-key row lock on
   PostgreSQL, the IMMEDIATE write lock on SQLite), so two concurrent requests for a new
   person create one customer. The oldest customer wins when several match.

A matched customer is left as it is, except that SMS consent given with the job is recorded
when the customer has not decided yet. Consent is never recorded over a STOP (a number on
the suppression list): the job goes ahead, with a warning.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from touchbase.customers.models import ConsentSource, Customer, SmsConsent, SmsSuppression
from touchbase.customers.services import create_customer, record_sms_consent, update_customer
from touchbase.intake.schema import CustomerIntake
from touchbase.tenancy.models import Business

SUPPRESSED_WARNING = (
    "customer.sms_consent: this number opted out by text message; consent not recorded"
)


@dataclass(frozen=True)
class CustomerMatch:
    customer: Customer
    created: bool
    changed: bool = False
    warnings: list[str] = field(default_factory=list)


def lock_customer_creation(business: Business) -> None:
    """Serialise the creation of customers per business, until the transaction ends."""
    Business.objects.select_for_update(no_key=True).filter(pk=business.pk).first()


class CustomerIndex:
    """The rule itself, on customers already loaded: add them oldest first, then `pick`.
    Dictionaries, so matching a chunk costs the same per row however large it is."""

    def __init__(self, customers: Iterable[Customer] = ()) -> None:
        self.by_email: dict[str, Customer] = {}
        self.by_phone: dict[str, Customer] = {}
        for customer in customers:
            self.add(customer)

    def add(self, customer: Customer) -> None:
        if customer.email:
            self.by_email.setdefault(customer.email, customer)
        if customer.phone:
            self.by_phone.setdefault(customer.phone, customer)

    def pick(self, email: str, phone: str) -> Customer | None:
        return (email and self.by_email.get(email)) or (phone and self.by_phone.get(phone)) or None


def candidates_for(business: Business, emails: Iterable[str], phones: Iterable[str]):
    """Every customer of the business holding one of these emails or phones (one indexed
    query, oldest first)."""
    emails, phones = [e for e in set(emails) if e], [p for p in set(phones) if p]
    if not emails and not phones:
        return Customer.objects.none()
    return Customer.objects.filter(
        Q(email__in=emails) | Q(phone__in=phones), business=business
    ).order_by("pk")


def find_customer(*, business: Business, email: str = "", phone: str = "") -> Customer | None:
    """The customer the rule picks for normalised `email` and `phone`, or None."""
    return CustomerIndex(candidates_for(business, [email], [phone])[:50]).pick(email, phone)


def suppressed_phones(business: Business, phones: Iterable[str]) -> set[str]:
    wanted = [phone for phone in set(phones) if phone]
    if not wanted:
        return set()
    return set(
        SmsSuppression.objects.filter(business=business, phone__in=wanted).values_list(
            "phone", flat=True
        )
    )


def match_or_create_customer(
    *,
    business: Business,
    given: CustomerIntake,
    consent_source: str = ConsentSource.API,
    recorded_by: str = "",
    update_existing: bool = False,
) -> CustomerMatch:
    """The customer `given` names by the rule above, created when none matches.
    `update_existing` (the customers CSV import) gives a matched customer the non-empty
    values of `given`."""

    suppressed = bool(given.phone) and bool(suppressed_phones(business, [given.phone]))
    customer = find_customer(business=business, email=given.email, phone=given.phone)
    if customer is None:
        with transaction.atomic():
            lock_customer_creation(business)
            customer = find_customer(business=business, email=given.email, phone=given.phone)
            if customer is None:
                customer = create_customer(
                    business=business,
                    name=given.name,
                    email=given.email,
                    phone=given.phone,
                    time_zone=given.time_zone,
                    language=given.language,
                    sms_consent=given.sms_consent and not suppressed,
                    consent_source=consent_source,
                    consent_disclosure=given.consent_disclosure,
                    recorded_by=recorded_by,
                )
                warnings = [SUPPRESSED_WARNING] if given.sms_consent and suppressed else []
                return CustomerMatch(customer, created=True, warnings=warnings)
    changed = False
    if update_existing:
        values = {"name": given.name, "email": given.email, "phone": given.phone}
        values["time_zone"] = given.time_zone
        values["language"] = given.language
        changes = {k: v for k, v in values.items() if v and v != getattr(customer, k)}
        if changes:
            update_customer(customer=customer, **changes)
            changed = True
    recorded, warnings = record_consent_given(
        customer, given, suppressed=suppressed, source=consent_source, recorded_by=recorded_by
    )
    return CustomerMatch(customer, created=False, changed=changed or recorded, warnings=warnings)


def record_consent_given(
    customer: Customer, given: CustomerIntake, *, suppressed: bool, source: str, recorded_by: str
) -> tuple[bool, list[str]]:
    """SMS consent given with a job, for a matched customer: recorded only when the customer
    has not decided yet, never over a STOP. (Whether it was recorded, warnings.)"""
    if not given.sms_consent:
        return False, []
    if suppressed:
        return False, [SUPPRESSED_WARNING]
    if not customer.phone or customer.sms_consent != SmsConsent.UNKNOWN:
        return False, []
    record_sms_consent(
        customer=customer,
        granted=True,
        source=source,
        disclosure_text=given.consent_disclosure,
        recorded_by=recorded_by,
    )
    return True, []
