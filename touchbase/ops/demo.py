"""The demo business `make up` creates: a login, customers, campaigns and jobs to look at."""

import os
from dataclasses import dataclass

from django.db import transaction

from touchbase import clock
from touchbase.campaigns import presets
from touchbase.campaigns.models import Campaign
from touchbase.campaigns.services import create_campaign_from_preset
from touchbase.customers.models import ConsentSource
from touchbase.customers.services import create_customer
from touchbase.jobs.models import JobStatus
from touchbase.jobs.services import create_job
from touchbase.ops.demo_history import seed_history
from touchbase.tenancy.models import Business, User
from touchbase.tenancy.services import create_business

DEMO_SLUG = "demo"
DEMO_EMAIL = "demo@touchbase.test"
SMS_DISCLOSURE = (
    "By giving us your mobile number you agree to receive review requests by text from "
    "Bright Air Heating & Cooling. Up to 3 msgs per job. Msg & data rates may apply. "
    "Reply STOP to opt out, HELP for help."
)

# (name, email, phone, time zone, sms consent)
CUSTOMERS = [
    ("Maria Lopez", "maria.lopez@example.com", "+13055550142", "", True),
    ("James Carter", "james.carter@example.com", "+12125550123", "America/New_York", True),
    ("Aiko Tanaka", "aiko@example.com", "+18085550111", "Pacific/Honolulu", False),
    ("Sam Wright", "sam.wright@example.com", "", "", False),
    ("Priya Natarajan", "", "+13105550199", "America/Los_Angeles", True),
    ("Tom Becker", "tom.becker@example.com", "+16175550177", "", True),
]
# (customer index, service type, status, technician)
JOBS = [
    (0, "hvac", JobStatus.COMPLETED, "Luis"),
    (1, "plumbing", JobStatus.COMPLETED, "Dana"),
    (2, "hvac", JobStatus.SCHEDULED, "Luis"),
    (3, "electrical", JobStatus.COMPLETED, "Ray"),
    (4, "hvac", JobStatus.DO_NOT_SEND, "Dana"),
    (5, "cleaning", JobStatus.COMPLETED, "Ray"),
]


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    created: bool


def demo_password() -> str:
    return os.environ.get("TOUCHBASE_DEMO_PASSWORD", "touchbase-demo")


@transaction.atomic
def seed_demo() -> DemoLogin:
    """Create the demo business once; later calls only report the login."""
    password = demo_password()
    if Business.objects.filter(slug=DEMO_SLUG).exists():
        return DemoLogin(DEMO_EMAIL, password, created=False)
    owner = User.objects.filter(email=DEMO_EMAIL).first()
    if owner is None:
        # Staff and superuser too: on a local demo the owner is also the operator who may
        # look at the Django admin.
        owner = User.objects.create_superuser(
            DEMO_EMAIL, password, first_name="Demo", email_verified_at=clock.now()
        )
    business = create_business(
        name="Bright Air Heating & Cooling",
        owner=owner,
        time_zone="America/New_York",
        review_url="https://www.example.com/reviews/bright-air",
        sender_name="Dana at Bright Air",
        sender_email="hello@bright-air.example.com",
        contact_phone="+13055550100",
        postal_address="120 Palm Avenue, Miami, FL 33101",
        service_types=["hvac", "plumbing", "electrical", "cleaning"],
        service_type_timing={"hvac": 24, "cleaning": 4},
    )
    Business.objects.filter(pk=business.pk).update(slug=DEMO_SLUG)
    business.slug = DEMO_SLUG
    preset = {campaign.preset_key: campaign for campaign in Campaign.objects.filter(business=None)}
    create_campaign_from_preset(
        business=business,
        preset=preset[presets.STANDARD],
        name="HVAC follow-up",
        service_type="hvac",
    )
    create_campaign_from_preset(
        business=business, preset=preset[presets.CONSERVATIVE], name="Everyone else"
    )
    create_campaign_from_preset(
        business=business,
        preset=preset[presets.AGGRESSIVE],
        name="Plumbing push (paused)",
        service_type="plumbing",
        status="paused",
    )
    customers = [
        create_customer(
            business=business,
            name=name,
            email=email,
            phone=phone,
            time_zone=time_zone,
            sms_consent=consent,
            consent_source=ConsentSource.FORM,
            consent_disclosure=SMS_DISCLOSURE,
            recorded_by="demo data",
        )
        for name, email, phone, time_zone, consent in CUSTOMERS
    ]
    for index, service_type, status, technician in JOBS:
        create_job(
            business=business,
            customer=customers[index],
            service_type=service_type,
            status=status,
            technician_name=technician,
            external_id=f"DEMO-{1000 + index}",
        )
    seed_history(business)
    return DemoLogin(DEMO_EMAIL, password, created=True)
