"""The signed job webhook (PRODUCT §6): a field-service tool tells us about a job. A thin
adapter over `take_job`; what is particular to it is the replay guard and the defaults
(a job it sends is completed unless it says otherwise; an external id is required).
"""

from typing import Any

from django.db import transaction

from touchbase.customers.models import ConsentSource
from touchbase.inbound.events import store_event
from touchbase.intake.pipeline import IntakeResult, take_job
from touchbase.intake.schema import clean_job
from touchbase.jobs.models import JobStatus
from touchbase.tenancy.models import Business


class ReplayedWebhook(Exception):
    """This exact signed request was received before; nothing was done the second time."""


def handle_job_webhook(*, business: Business, data: Any, signature: str) -> IntakeResult:
    """The whole body is checked first (the intake validator); then, in one transaction, the
    signature is stored as an Event (a replay raises ReplayedWebhook) and the job goes through
    intake. Any error rolls everything back: nothing is written."""
    intake = clean_job(
        data, zone=business.time_zone, default_status=JobStatus.COMPLETED, require_external_id=True
    )
    with transaction.atomic():
        event = store_event(
            source="job_webhook",
            external_id=f"{business.pk}:{signature}",
            kind="job_webhook",
            business=business,
            payload={"external_id": intake.external_id, "status": intake.status},
        )
        if event is None:
            raise ReplayedWebhook
        result = take_job(
            business=business,
            intake=intake,
            recorded_by="job webhook",
            consent_source=ConsentSource.API,
        )
        event.payload = {**event.payload, "job": result.job.pk}
        event.save(update_fields=["payload"])
    return result
