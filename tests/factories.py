"""Builders for test data. They go through the real services, so every test exercises the
same validation and side effects the product does."""

from itertools import count

from touchbase import clock
from touchbase.campaigns.models import Campaign, MessageTemplate
from touchbase.campaigns.services import create_campaign_from_preset
from touchbase.customers.services import create_customer
from touchbase.jobs.services import JobResult, create_job
from touchbase.tenancy.models import Business, User
from touchbase.tenancy.services import create_business

_numbers = count(1)


def preset(key: str) -> Campaign:
    return Campaign.objects.get(preset_key=key)


def system_template(key: str) -> MessageTemplate:
    return MessageTemplate.objects.get(system_key=key)


def make_user(email: str | None = None, *, verified: bool = True) -> User:
    """A login; verified (it proved its email) unless told otherwise."""
    return User.objects.create_user(
        email or f"user{next(_numbers)}@example.com",
        "pw-123456!",
        email_verified_at=clock.now() if verified else None,
    )


def make_business(name: str | None = None, **settings) -> Business:
    settings.setdefault("time_zone", "America/New_York")
    # Set up enough to go live (PRODUCT §9); a test of the incomplete case passes blanks.
    settings.setdefault("review_url", "https://g.page/r/test-business/review")
    settings.setdefault("postal_address", "1 Main St, Springfield, IL 62701")
    return create_business(name=name or f"Business {next(_numbers)}", **settings)


def make_customer(business: Business, name: str = "Pat Doe", **fields):
    fields.setdefault("email", f"customer{next(_numbers)}@example.com")
    return create_customer(business=business, name=name, **fields)


def make_campaign(
    business: Business,
    preset_key: str = "standard",
    service_type: str | None = None,
    **options,
) -> Campaign:
    return create_campaign_from_preset(
        business=business, preset=preset(preset_key), service_type=service_type, **options
    )


def complete_job(business: Business, customer, service_type: str = "hvac", **fields) -> JobResult:
    return create_job(
        business=business,
        customer=customer,
        service_type=service_type,
        status="completed",
        **fields,
    )


def failed_message(business: Business, event_type: str = "delivery.sent"):
    """An endpoint of `business` (on a public address) and a message that failed every try."""
    from touchbase.webhooks.models import WebhookMessage
    from touchbase.webhooks.services import create_endpoint

    url = f"https://93.184.215.14/hooks/{business.slug}"
    endpoint = create_endpoint(business=business, url=url).endpoint
    return endpoint, WebhookMessage.objects.create(
        business=business,
        endpoint=endpoint,
        message_id=f"msg_{business.pk}_{event_type}",
        event_type=event_type,
        payload="{}",
        created_at=endpoint.created_at,
        next_attempt_at=endpoint.created_at,
        status="failed",
        attempts=8,
    )


def unenrolled_jobs(business: Business, customers, specs) -> list:
    """Jobs from (customer index, service type, status), none offered to the engine yet."""
    return [
        create_job(
            business=business,
            customer=customers[index],
            service_type=service_type,
            status=status,
            enroll_in_campaign=False,
        ).job
        for index, service_type, status in specs
    ]
