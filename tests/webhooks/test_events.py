"""Each product event is queued for the business's endpoint by the change that causes it,
with the ids an integrator needs (what the worker then posts is tested in test_delivery)."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.factories import complete_job, make_business, make_campaign, make_customer
from tests.inbound.conftest import send_first_touch
from touchbase import clock as the_clock
from touchbase.campaigns.enrollment import stop_enrollment
from touchbase.delivery.claiming import reap_expired_leases
from touchbase.delivery.models import Delivery
from touchbase.inbound.customer_actions import record_click, record_feedback, record_unsubscribe
from touchbase.inbound.sms_replies import handle_inbound_sms
from touchbase.webhooks.events import emit_enrollment_events, emit_event, one_write
from touchbase.webhooks.models import WebhookEndpoint, WebhookMessage
from touchbase.webhooks.services import create_endpoint

pytestmark = pytest.mark.django_db
PHONE = "+13055550142"


@pytest.fixture
def shop(clock, settings):
    settings.TOUCHBASE_WEBHOOKS = {**settings.TOUCHBASE_WEBHOOKS, "allow_private": True}
    business = make_business("Cool Air HVAC", contact_phone="+13055550100")
    create_endpoint(business=business, url="https://127.0.0.1/hook")
    return business


def queued(event_type: str | None = None) -> list[dict]:
    messages = WebhookMessage.objects.order_by("pk")
    if event_type:
        messages = messages.filter(event_type=event_type)
    return [json.loads(message.payload) for message in messages]


def test_enrollment_created_and_stopped_name_the_job_and_the_reason(shop):
    make_campaign(shop)
    result = complete_job(shop, make_customer(shop), external_id="fsm-7")
    enrollment = result.job.enrollments.get()

    stop_enrollment(enrollment=enrollment)

    [created] = queued("enrollment.created")
    assert created["data"]["enrollment_id"] == enrollment.pk
    assert created["data"]["job_external_id"] == "fsm-7"
    [stopped] = queued("enrollment.stopped")
    assert stopped["data"]["reason"] == "owner_stopped"
    assert stopped["data"]["job_external_id"] == "fsm-7"


def test_a_click_stops_the_sequence_and_says_so_twice(shop):
    sent = send_first_touch(shop)

    record_click(delivery=sent.delivery, user_agent="Mozilla/5.0 (iPhone)")

    [clicked] = queued("review_link.clicked")
    assert clicked["data"]["delivery_id"] == sent.delivery.pk
    assert [e["data"]["reason"] for e in queued("enrollment.stopped")] == ["review_clicked"]


def test_feedback_carries_the_message(shop):
    sent = send_first_touch(shop)

    record_feedback(delivery=sent.delivery, message="The technician was late")

    [feedback] = queued("feedback.received")
    assert feedback["data"]["message"] == "The technician was late"
    assert feedback["data"]["customer_id"] == sent.customer.pk


def test_opt_outs_name_their_channel(shop):
    sent = send_first_touch(shop, phone=PHONE, sms_consent=True)

    record_unsubscribe(delivery=sent.delivery)
    handle_inbound_sms(message_sid="SM1", from_number=PHONE, body="STOP")

    channels = [event["data"]["channel"] for event in queued("customer.opted_out")]
    assert channels == ["email", "sms"]


def test_a_reply_is_an_event_for_the_business_it_answers(shop):
    customer = make_customer(shop, phone=PHONE)

    handle_inbound_sms(message_sid="SM2", from_number=PHONE, body="Who is this?")

    [reply] = queued("reply.received")
    assert reply["data"]["body"] == "Who is this?"
    assert reply["data"]["customer_id"] == customer.pk


def test_a_finished_sequence_and_its_sends(clock, shop, engine):
    make_campaign(shop, "conservative")
    complete_job(shop, make_customer(shop))
    for _ in range(6):
        clock.shift(timedelta(days=10))
        engine.run_batch()

    sends = queued("delivery.sent")
    assert len(sends) == Delivery.objects.filter(status="sent").count() >= 1
    assert len(queued("enrollment.completed")) == 1


def test_a_send_the_worker_lost_is_reported_uncertain(shop):
    sent = send_first_touch(shop)
    Delivery.objects.filter(pk=sent.delivery.pk).update(  # its call had started
        status="sending", lease_expires_at=the_clock.now() - timedelta(seconds=1)
    )

    reap_expired_leases(now=the_clock.now())

    [uncertain] = queued("delivery.uncertain")
    assert uncertain["data"]["delivery_id"] == sent.delivery.pk


def statements_on(table: str, queries) -> list[str]:
    """The first word of each statement naming `table` (SQLite logs an executemany as
    "N times: INSERT ...")."""
    return [
        re.sub(r"^\d+ times: ", "", q["sql"]).split()[0]
        for q in queries.captured_queries
        if table in q["sql"]
    ]


def test_one_write_looks_up_each_business_once_and_inserts_once(shop):
    make_campaign(shop)
    enrollment = complete_job(shop, make_customer(shop)).job.enrollments.get()
    WebhookMessage.objects.all().delete()

    with CaptureQueriesContext(connection) as queries, transaction.atomic(), one_write():
        emit_enrollment_events([enrollment], "enrollment.completed")
        emit_event(business_id=shop.pk, type="customer.opted_out", data={"customer_id": 1})

    assert statements_on(WebhookEndpoint._meta.db_table, queries) == ["SELECT"]
    assert statements_on(WebhookMessage._meta.db_table, queries) == ["INSERT"]
    assert [e["type"] for e in queued()] == ["enrollment.completed", "customer.opted_out"]


def test_a_write_that_fails_inside_one_write_queues_nothing(shop):
    with pytest.raises(RuntimeError), transaction.atomic(), one_write():
        emit_event(business_id=shop.pk, type="customer.opted_out", data={"customer_id": 1})
        raise RuntimeError("the change rolls back")

    assert queued() == []
    # and the next write on this thread gathers afresh
    with transaction.atomic(), one_write():
        emit_event(business_id=shop.pk, type="customer.opted_out", data={"customer_id": 2})
    assert [e["data"]["customer_id"] for e in queued()] == [2]


def test_a_business_without_an_endpoint_gets_no_event_in_a_shared_write(shop):
    other = make_business("Quiet Plumbing")
    make_campaign(other)
    theirs = complete_job(other, make_customer(other)).job.enrollments.get()
    make_campaign(shop)
    ours = complete_job(shop, make_customer(shop)).job.enrollments.get()
    WebhookMessage.objects.all().delete()

    with transaction.atomic(), one_write():
        emit_enrollment_events([theirs, ours], "enrollment.completed")

    assert [e["data"]["enrollment_id"] for e in queued()] == [ours.pk]
    assert set(WebhookMessage.objects.values_list("business_id", flat=True)) == {shop.pk}
