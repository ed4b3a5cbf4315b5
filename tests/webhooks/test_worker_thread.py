"""A slow or dead receiver never slows the sending of review requests: in the long-running
worker the webhook pass runs on its own thread, and a try gives up after a few seconds."""

import threading
from datetime import timedelta

import pytest

from tests.factories import complete_job, make_customer
from touchbase.ops.periodic import run_periodic_duties
from touchbase.webhooks.models import WebhookMessage


def background_pass() -> threading.Thread:
    [thread] = [t for t in threading.enumerate() if t.name == "periodic-duties"]
    return thread


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_hanging_receiver_does_not_hold_up_review_requests(
    clock, business, endpoint, receiver, engine, mailoutbox, settings
):
    settings.TOUCHBASE_WEBHOOKS = {**settings.TOUCHBASE_WEBHOOKS, "timeout_seconds": 10}
    receiver.release = threading.Event()
    complete_job(business, make_customer(business))

    assert run_periodic_duties() is None  # returns at once
    assert receiver.arrived.wait(5)  # the post is now hanging in the background
    clock.shift(timedelta(hours=24))
    outcome = engine.run_batch()

    assert outcome.counts["sent"] == 1 and len(mailoutbox) == 1
    assert WebhookMessage.objects.get(event_type="enrollment.created").status == "sending"
    receiver.release.set()
    background_pass().join(5)
    assert WebhookMessage.objects.get(event_type="enrollment.created").status == "delivered"
