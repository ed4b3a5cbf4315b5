"""One signed job webhook delivered eight times at the same moment (PostgreSQL only)."""

import pytest

from tests.factories import make_business
from tests.inbound.test_inbound_races import race
from touchbase.inbound.models import Event
from touchbase.intake.webhook import ReplayedWebhook, handle_job_webhook
from touchbase.jobs.models import Job

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_one_job_webhook_delivered_eight_times_at_once_creates_one_job():
    business = make_business()
    body = {
        "external_id": "ST-1",
        "service_type": "hvac",
        "customer": {"name": "Pat", "email": "pat@example.com"},
    }

    results, errors = race(
        8, lambda n: handle_job_webhook(business=business, data=body, signature="sha256=ab")
    )

    assert len(results) == 1
    assert all(isinstance(error, ReplayedWebhook) for error in errors)
    assert Job.objects.count() == 1
    assert Event.objects.filter(source="job_webhook").count() == 1
