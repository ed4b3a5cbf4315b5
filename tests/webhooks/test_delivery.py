"""Outbound webhooks end to end: the worker posts to a real local receiver, which verifies
each request with the `standardwebhooks` library, as an integrator's receiver would."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.factories import complete_job, make_business, make_customer
from touchbase import clock as touchbase_clock
from touchbase.ops.periodic import run_periodic_duties
from touchbase.webhooks.models import WebhookEndpoint, WebhookMessage
from touchbase.webhooks.sending import MAX_ATTEMPTS, RETRY_SCHEDULE
from touchbase.webhooks.services import replay_message

pytestmark = pytest.mark.django_db


def deliver():
    return run_periodic_duties(wait=True)["webhooks"]


def verified(receiver, secret) -> list[dict]:
    """Every request the receiver got, verified the way a receiver verifies them."""
    return [
        Webhook(secret).verify(request["body"], request["headers"]) for request in receiver.requests
    ]


def test_a_sent_review_request_reaches_the_endpoint_signed(
    clock, business, endpoint, receiver, mailoutbox
):
    job = complete_job(business, make_customer(business), external_id="fsm-1042").job
    clock.shift(timedelta(hours=24))

    call_command("worker", once=True)  # sends the touch, then runs the periodic duties

    events = {event["type"]: event for event in verified(receiver, endpoint.secret)}
    assert set(events) == {"enrollment.created", "delivery.sent"}  # posted concurrently
    sent = events["delivery.sent"]["data"]
    assert sent["job_external_id"] == "fsm-1042"
    assert sent["job_id"] == job.pk
    assert sent["channel"] == "email"
    assert events["delivery.sent"]["timestamp"].endswith("Z")
    assert {request["headers"]["webhook-id"][:4] for request in receiver.requests} == {"msg_"}
    assert endpoint.secret.startswith("whsec_")


def test_a_wrong_secret_does_not_verify(clock, business, endpoint, receiver):
    complete_job(business, make_customer(business))
    deliver()

    with pytest.raises(WebhookVerificationError):
        verified(receiver, "whsec_" + "A" * 32)


def test_a_500_is_retried_later_with_the_same_webhook_id(clock, business, endpoint, receiver):
    receiver.statuses = [500, 200]
    complete_job(business, make_customer(business))

    assert deliver() == {"pending": 1}
    assert deliver() == {}  # not due yet: backoff
    clock.shift(RETRY_SCHEDULE[0])
    assert deliver() == {"delivered": 1}

    first, second = receiver.requests
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]
    assert first["body"] == second["body"]
    verified(receiver, endpoint.secret)  # both signed, each with its own timestamp
    message = WebhookMessage.objects.get()
    assert [(t.number, t.status_code) for t in message.tries.all()] == [(1, 500), (2, 200)]


def test_a_receiver_that_does_not_answer_costs_one_timed_out_try(
    clock, business, endpoint, receiver
):
    receiver.delay = 2  # the timeout is 1 s in these tests
    complete_job(business, make_customer(business))

    assert deliver() == {"pending": 1}

    message = WebhookMessage.objects.get()
    assert message.last_error == "no answer within 1 s"
    assert message.next_attempt_at == message.created_at + RETRY_SCHEDULE[0]


def test_an_endpoint_failing_for_a_day_is_disabled_and_the_owner_told(
    clock, business, endpoint, receiver, mailoutbox
):
    from tests.factories import make_user
    from touchbase.tenancy.models import Membership

    owner = make_user("owner@example.com")
    Membership.objects.create(user=owner, business=business, role="owner")
    receiver.statuses = [503]
    complete_job(business, make_customer(business))

    deliver()
    for wait in RETRY_SCHEDULE:
        clock.shift(wait)
        deliver()

    assert len(receiver.requests) == MAX_ATTEMPTS
    assert sum(RETRY_SCHEDULE, timedelta()) > timedelta(hours=24)
    assert WebhookMessage.objects.get().status == "failed"
    endpoint_row = WebhookEndpoint.objects.get()
    assert endpoint_row.disabled_at is not None
    assert "HTTP 503" in endpoint_row.disabled_reason
    [notice] = [m for m in mailoutbox if "webhook" in m.subject]
    assert notice.to == ["owner@example.com"]
    assert receiver.url in notice.body

    complete_job(business, make_customer(business, email="later@example.com"))
    assert not WebhookMessage.objects.filter(status="pending").exists()  # nothing queued


def test_a_replay_sends_the_same_message_again(clock, business, endpoint, receiver):
    complete_job(business, make_customer(business))
    deliver()
    message = WebhookMessage.objects.get()

    replay_message(message=message)
    deliver()

    first, again = receiver.requests
    assert first["headers"]["webhook-id"] == again["headers"]["webhook-id"]
    assert message.tries.count() == 2


def test_a_worker_that_died_while_posting_leaves_the_message_to_be_posted_again(
    clock, business, endpoint, receiver
):
    complete_job(business, make_customer(business))
    WebhookMessage.objects.update(
        status="sending",
        lease_owner="dead-worker",
        lease_expires_at=touchbase_clock.now() + timedelta(seconds=60),
    )
    assert deliver() == {}  # its lease still runs
    clock.shift(timedelta(minutes=2))

    assert deliver() == {"delivered": 1}


def test_events_of_one_business_never_reach_another_businesss_endpoint(clock, endpoint, receiver):
    other = make_business()
    from tests.factories import make_campaign

    make_campaign(other, "conservative")
    complete_job(other, make_customer(other))
    clock.shift(timedelta(hours=24))
    call_command("worker", once=True)

    assert receiver.requests == []
    assert not WebhookMessage.objects.exists()


def test_an_endpoint_gets_only_the_event_types_it_chose(clock, business, receiver, allow_private):
    from touchbase.webhooks.services import create_endpoint

    create_endpoint(business=business, url=receiver.url, events=["delivery.sent"])
    complete_job(business, make_customer(business))
    clock.shift(timedelta(hours=24))
    call_command("worker", once=True)

    assert [event["type"] for event in receiver.events()] == ["delivery.sent"]


def test_an_event_is_written_with_its_change_or_not_at_all(clock, business, endpoint):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        complete_job(business, make_customer(business))
        assert WebhookMessage.objects.count() == 1
        raise RuntimeError("the change fails after the event was written")

    assert not WebhookMessage.objects.exists()


def test_an_endpoint_deleted_while_its_messages_were_posted_costs_only_its_rows(
    clock, business, endpoint, receiver
):
    from touchbase.webhooks.sending import claim, post, record
    from touchbase.webhooks.services import create_endpoint, delete_endpoint

    other = create_endpoint(business=business, url=receiver.url)
    complete_job(business, make_customer(business))
    messages = claim(now=touchbase_clock.now(), limit=10, lease=timedelta(minutes=1))
    outcomes = [post(message, timeout=1) for message in messages]

    delete_endpoint(endpoint=other.endpoint)
    counts = record(messages, outcomes)

    assert counts == {"delivered": 1}
    assert WebhookMessage.objects.get().status == "delivered"
