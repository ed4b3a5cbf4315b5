"""Many due deliveries at once, for process tests and benchmarks.

Rows are written with bulk_create (the services would take minutes for 10^5 rows); the
shape is exactly what the enrollment engine produces: one active enrollment per customer
with its first delivery pending.
"""

from datetime import UTC, datetime, timedelta

from touchbase import clock
from touchbase.campaigns.models import Enrollment, MessageTemplate
from touchbase.campaigns.services import TouchSpec, create_campaign
from touchbase.customers.models import Customer
from touchbase.delivery.models import Delivery
from touchbase.jobs.models import Job
from touchbase.tenancy.models import Business
from touchbase.tenancy.services import create_business


def daytime_zone(now: datetime | None = None) -> str:
    """A fixed-offset zone where it is early afternoon right now, so real-time workers find
    every delivery inside its send window whatever time the suite runs."""
    hour = (now or datetime.now(UTC)).hour
    offset = (13 - hour + 12) % 24 - 12  # -12..11 hours from UTC
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


def unthrottled_business(name: str = "Bulk Sender") -> Business:
    return create_business(
        name=name,
        time_zone="America/New_York",
        review_url="https://g.page/r/bulk-sender/review",
        postal_address="1 Main St, Springfield, IL 62701",
        email_hourly_limit=2_000_000_000,
        sms_hourly_limit=2_000_000_000,
    )


def make_due_deliveries(
    business: Business,
    count: int,
    *,
    channel: str = "sms",
    due_at: datetime | None = None,
    first_id: int = 0,
    time_zone: str | None = None,
) -> list[int]:
    """`count` customers, each with a one-touch enrollment whose delivery is due."""
    template = MessageTemplate.objects.get(system_key=f"{channel}_request")
    campaign = business.campaigns.filter(name=f"Bulk {channel}").first() or create_campaign(
        business=business,
        name=f"Bulk {channel}",
        service_type="other",
        touches=[TouchSpec(channel, 1, template)],
    )
    zone = time_zone or daytime_zone()
    now = clock.now()
    due = due_at or now - timedelta(minutes=1)
    customers = Customer.objects.bulk_create(
        Customer(
            business=business,
            name=f"Customer {n}",
            email=f"c{n}@example.com",
            phone=f"+1212{n // 10000 % 1000:03d}{n % 10000:04d}",
            time_zone=zone,
            sms_consent="granted",
        )
        for n in range(first_id, first_id + count)
    )
    jobs = Job.objects.bulk_create(
        Job(
            business=business,
            customer=c,
            service_type="other",
            status="completed",
            completed_at=now,
        )
        for c in customers
    )
    enrollments = Enrollment.objects.bulk_create(
        Enrollment(
            business=business, campaign=campaign, job=j, customer_id=j.customer_id, enrolled_at=now
        )
        for j in jobs
    )
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            business=business,
            enrollment=e,
            position=1,
            channel=channel,
            scheduled_at=due,
            send_after=due,
        )
        for e in enrollments
    )
    return [d.pk for d in deliveries]
