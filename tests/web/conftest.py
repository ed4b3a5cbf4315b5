from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests.factories import (
    complete_job,
    failed_message,
    make_business,
    make_campaign,
    make_customer,
    make_user,
)
from touchbase import clock
from touchbase.api.keys import create_api_key
from touchbase.api.models import ApiKey
from touchbase.campaigns.models import Campaign, Enrollment, MessageTemplate
from touchbase.campaigns.services import create_template
from touchbase.customers.models import Customer
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.imports.background import queue_import
from touchbase.imports.models import Import
from touchbase.jobs.models import Job
from touchbase.tenancy.models import Business, Invitation, Membership, User
from touchbase.tenancy.services import add_member
from touchbase.webhooks.models import WebhookEndpoint, WebhookMessage


@dataclass
class Tenant:
    """One business with one of everything the pages show."""

    business: Business
    user: User
    campaign: Campaign
    customer: Customer
    job: Job
    enrollment: Enrollment
    delivery: Delivery
    template: MessageTemplate
    api_key: ApiKey
    membership: Membership
    invitation: Invitation
    webhook_endpoint: WebhookEndpoint
    webhook_message: WebhookMessage
    web_import: Import


def make_tenant(name: str) -> Tenant:
    business = make_business(name)
    user = make_user()
    add_member(business=business, user=user, role="owner")
    campaign = make_campaign(business, "standard", name=f"{name} sequence")
    customer = make_customer(business, f"{name} Customer", phone="+13055550142")
    job = complete_job(business, customer).job
    enrollment = Enrollment.objects.get(job=job)
    delivery = Delivery.objects.get(enrollment=enrollment)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.UNCERTAIN)
    template = create_template(
        business=business, name=f"{name} text", channel="sms", body="Hi {customer_first_name}"
    )
    api_key = create_api_key(business=business, name=f"{name} sync").api_key
    invitation = Invitation.objects.create(
        business=business,
        email=f"invited@{business.slug}.test",
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(days=7),
    )
    return Tenant(
        business,
        user,
        campaign,
        customer,
        job,
        enrollment,
        delivery,
        template,
        api_key,
        Membership.objects.get(user=user, business=business),
        invitation,
        *failed_message(business),
        queue_import(
            business=business,
            kind="jobs",
            content=b"job number,name,email,service\n",
            filename="jobs.csv",
            columns={},
            enroll=True,
            recorded_by=user.email,
        ),
    )


@pytest.fixture
def mine(db) -> Tenant:
    return make_tenant("Bright Air")


@pytest.fixture
def theirs(db) -> Tenant:
    return make_tenant("Rival Plumbing")


@pytest.fixture
def owner_client(client, mine):
    client.force_login(mine.user)
    return client


@pytest.fixture
def owner_of(client):
    """Log the client in as a new owner of `business`."""

    def login(business):
        user = make_user()
        add_member(business=business, user=user, role="owner")
        client.force_login(user)
        return client

    return login
