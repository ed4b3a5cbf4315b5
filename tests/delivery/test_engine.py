"""The worker's decisions (PRODUCT §3) and outcomes, with a controlled clock.

The clock starts on Monday 2026-03-02 at 15:00 UTC: 10:00 in New York.
"""

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import complete_job, make_business, make_campaign, make_customer
from touchbase import clock as touchbase_clock
from touchbase.campaigns.models import Enrollment
from touchbase.campaigns.services import TouchSpec, create_template, set_campaign_touches
from touchbase.customers.models import Customer
from touchbase.customers.services import (
    record_email_bounce,
    record_email_opt_out,
    record_sms_opt_out,
)
from touchbase.delivery.claiming import claim_due, reap_expired_leases
from touchbase.delivery.models import Delivery, DeliveryAttempt

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 2, 15, tzinfo=UTC)


def clock_now() -> datetime:
    return touchbase_clock.now()


@pytest.fixture
def business(clock):
    return make_business("Bright Air", email_hourly_limit=1000, sms_hourly_limit=1000)


def enroll(business, customer=None, preset="standard", **customer_fields) -> Delivery:
    if not business.campaigns.exists():
        make_campaign(business, preset)
    customer = customer or make_customer(business, "Maria Lopez", **customer_fields)
    result = complete_job(business, customer)
    assert result.enrollment.success, result.enrollment
    return Delivery.objects.get(enrollment_id=result.enrollment.enrollment_id)


def at(clock, moment: datetime) -> None:
    clock.move_to(moment, tick=False)


def fresh(delivery: Delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)


def next_touch(delivery: Delivery) -> Delivery | None:
    return Delivery.objects.filter(
        enrollment_id=delivery.enrollment_id, position=delivery.position + 1
    ).first()


# --- sending and sequencing ----------------------------------------------------------------


def test_a_touch_is_not_sent_before_it_is_due(engine, business, mailoutbox):
    enroll(business)

    assert engine.run_batch().claimed == 0
    assert mailoutbox == []


def test_a_due_email_is_sent_and_the_next_touch_follows_its_scheduled_time(
    engine, business, clock, mailoutbox
):
    delivery = enroll(business)
    # The worker runs 40 minutes late: touch 2 is still anchored on touch 1's schedule.
    at(clock, delivery.scheduled_at + timedelta(minutes=40))

    engine.run_batch()

    sent = fresh(delivery)
    assert sent.sent_at == clock_now()
    assert (sent.status, sent.attempts, sent.provider) == ("sent", 1, "locmem")
    assert sent.provider_message_id and sent.body_text and sent.to_address == mailoutbox[0].to[0]
    assert mailoutbox[0].subject == "How did we do, Maria?"
    following = next_touch(delivery)
    assert following.scheduled_at == delivery.scheduled_at + timedelta(hours=72)
    assert (following.status, following.channel) == ("pending", "email")
    assert Enrollment.objects.get(pk=delivery.enrollment_id).current_position == 2
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert (attempt.number, attempt.outcome, attempt.provider_message_id) == (
        1,
        "sent",
        sent.provider_message_id,
    )


def test_the_last_touch_completes_the_enrollment(engine, business, clock, mailoutbox):
    delivery = enroll(business, preset="conservative")
    at(clock, delivery.send_after)
    engine.run_batch()
    second = next_touch(delivery)
    at(clock, second.send_after)

    engine.run_batch()

    enrollment = Enrollment.objects.get(pk=delivery.enrollment_id)
    assert (enrollment.status, enrollment.completed_at) == ("completed", clock_now())
    assert next_touch(second) is None
    assert len(mailoutbox) == 2


def test_a_stopped_enrollment_cancels_a_touch_the_worker_already_holds(
    engine, business, clock, mailoutbox
):
    delivery = enroll(business)
    at(clock, delivery.send_after)
    # The stop lands after the claim (a click on the review link a moment ago).
    Enrollment.objects.filter(pk=delivery.enrollment_id).update(
        status="stopped", stop_reason="review_clicked"
    )

    engine.run_batch()

    assert (fresh(delivery).status, fresh(delivery).skip_reason) == (
        "cancelled",
        "enrollment_stopped",
    )
    assert mailoutbox == [] and next_touch(delivery) is None


def test_a_frozen_enrollment_holds_its_touch(engine, business, clock, mailoutbox):
    delivery = enroll(business)
    at(clock, delivery.send_after)
    Enrollment.objects.filter(pk=delivery.enrollment_id).update(status="frozen", frozen_at=START)

    engine.run_batch()

    assert fresh(delivery).status == "held" and mailoutbox == []


# --- addresses and consent -----------------------------------------------------------------


def test_a_missing_email_is_skipped_and_the_sequence_continues(engine, business, clock):
    delivery = enroll(business, preset="conservative", email="")
    at(clock, delivery.send_after)

    engine.run_batch()

    assert (fresh(delivery).status, fresh(delivery).skip_reason) == ("skipped", "no_email")
    assert next_touch(delivery).status == "pending"


def test_a_missing_phone_is_skipped(engine, business, clock, sms_outbox):
    delivery = enroll(business, preset="aggressive")  # touch 1 is an SMS
    at(clock, delivery.send_after)

    engine.run_batch()

    assert (fresh(delivery).status, fresh(delivery).skip_reason) == ("skipped", "no_phone")
    assert next_touch(delivery).channel == "email" and sms_outbox == []


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda customer: None, "no_sms_consent"),
        (lambda customer: record_sms_opt_out(customer=customer, source="keyword"), "sms_opted_out"),
        (
            lambda customer: Customer.objects.filter(pk=customer.pk).update(
                phone_unusable="landline"
            ),
            "phone_landline",
        ),
    ],
)
def test_sms_needs_consent_and_a_usable_number(engine, business, clock, sms_outbox, setup, reason):
    consent = reason != "no_sms_consent"
    customer = make_customer(business, phone="3055550142", sms_consent=consent)
    delivery = enroll(business, customer, preset="aggressive")
    setup(customer)
    at(clock, delivery.send_after)

    engine.run_batch()

    assert (fresh(delivery).status, fresh(delivery).skip_reason) == ("skipped", reason)
    assert sms_outbox == []


@pytest.mark.parametrize(
    ("setup", "reason"),
    [(record_email_opt_out, "email_opted_out"), (record_email_bounce, "email_bounced")],
)
def test_email_is_not_sent_after_opt_out_or_hard_bounce(
    engine, business, clock, mailoutbox, setup, reason
):
    customer = make_customer(business, phone="3055550142", sms_consent=True)
    delivery = enroll(business, customer, preset="standard")  # the SMS touch keeps it alive
    setup(customer=customer)
    at(clock, delivery.send_after)

    engine.run_batch()

    assert (fresh(delivery).status, fresh(delivery).skip_reason) == ("skipped", reason)
    assert mailoutbox == []


def test_a_number_on_the_suppression_list_is_never_texted(engine, business, clock, sms_outbox):
    first = make_customer(business, "First", phone="3055550142", sms_consent=True)
    record_sms_opt_out(customer=first, source="keyword")
    # Same number, another customer record whose consent says granted (e.g. stale import).
    second = make_customer(business, "Second", phone="3055550142")
    Customer.objects.filter(pk=second.pk).update(sms_consent="granted")
    delivery = enroll(business, second, preset="aggressive")
    at(clock, delivery.send_after)

    engine.run_batch()

    assert fresh(delivery).skip_reason == "sms_opted_out" and sms_outbox == []


# --- SMS content -------------------------------------------------------------------------------


def test_the_first_sms_names_the_business_and_ends_with_the_opt_out_line(
    engine, business, clock, sms_outbox
):
    template = create_template(
        business=business,
        name="Short",
        channel="sms",
        body="Hi {customer_first_name}, how did we do? {review_link}",
    )
    campaign = make_campaign(business, "aggressive")
    set_campaign_touches(
        campaign=campaign,
        touches=[TouchSpec("sms", 4, template), TouchSpec("sms", 24, template)],
    )
    customer = make_customer(business, "Maria Lopez", phone="3055550142", sms_consent=True)
    delivery = enroll(business, customer)
    at(clock, delivery.send_after)
    engine.run_batch()
    at(clock, next_touch(delivery).send_after)
    engine.run_batch()

    first, second = (message.text for message in sms_outbox)
    assert first.startswith("Bright Air: Hi Maria, how did we do? http://127.0.0.1:8000/r/")
    assert first.endswith("Reply STOP to opt out.")
    assert "Bright Air" not in second and "STOP" not in second
    assert fresh(delivery).body_text == first


def test_an_sms_over_ten_segments_fails_instead_of_being_sent(engine, business, clock, sms_outbox):
    template = create_template(
        business=business, name="Long", channel="sms", body="x" * 1450 + " {customer_name}"
    )
    set_campaign_touches(campaign=make_campaign(business), touches=[TouchSpec("sms", 4, template)])
    customer = make_customer(business, "Maria " + "Q" * 120, phone="3055550142", sms_consent=True)
    delivery = enroll(business, customer)
    at(clock, delivery.send_after)

    engine.run_batch()

    assert (fresh(delivery).status, fresh(delivery).error_code) == ("failed", "too_long")
    assert sms_outbox == []


# --- throttles and caps ------------------------------------------------------------------------


def test_the_hourly_throttle_paces_sends_evenly(engine, clock, mailoutbox):
    business = make_business("Small Shop", email_hourly_limit=4)
    deliveries = [
        enroll(business, make_customer(business, f"Customer {n}"), preset="conservative")
        for n in range(6)
    ]
    now = deliveries[-1].send_after
    at(clock, now)

    engine.run_batch()

    assert len(mailoutbox) == 1
    waiting = sorted(fresh(d).send_after for d in deliveries if fresh(d).status == "pending")
    assert [w - now for w in waiting] == [timedelta(minutes=15 * n) for n in range(1, 6)]
    assert {fresh(d).defer_reason for d in deliveries if fresh(d).status == "pending"} == {
        "throttle"
    }

    at(clock, now + timedelta(minutes=15))
    engine.run_batch()

    assert len(mailoutbox) == 2  # the touch that reserved this slot, and only it


def test_one_email_per_recipient_per_hour_across_customers_and_campaigns(
    engine, business, clock, mailoutbox
):
    shared = "family@example.com"
    first = enroll(business, make_customer(business, "Ann", email=shared), preset="conservative")
    second = enroll(business, make_customer(business, "Bob", email=shared))
    at(clock, second.send_after)

    engine.run_batch()

    assert len(mailoutbox) == 1
    waiting = fresh(second) if fresh(second).status == "pending" else fresh(first)
    assert waiting.defer_reason == "frequency_cap"
    assert waiting.send_after == clock_now() + timedelta(hours=1)


def test_at_most_three_sms_to_a_number_in_24_hours(engine, business, clock, sms_outbox):
    make_campaign(business, "aggressive")  # touch 1 is an SMS
    deliveries = [
        enroll(
            business,
            make_customer(business, f"Household {n}", phone="3055550142", sms_consent=True),
        )
        for n in range(4)
    ]
    for n, delivery in enumerate(deliveries):  # due 14:00, 15:30, 17:00, 18:30 in New York
        due = START + timedelta(hours=4, minutes=90 * n)
        Delivery.objects.filter(pk=delivery.pk).update(send_after=due, scheduled_at=due)
        at(clock, due)
        engine.run_batch()

    assert len(sms_outbox) == 3
    fourth = fresh(deliveries[3])
    assert (fourth.status, fourth.defer_reason) == ("pending", "frequency_cap")
    assert fourth.send_after == fresh(deliveries[0]).sent_at + timedelta(hours=24)


# --- reaper ------------------------------------------------------------------------------------


def test_an_expired_claim_goes_back_to_pending(business, clock):
    delivery = enroll(business)
    at(clock, delivery.send_after)
    claim_due(owner="dead-worker", limit=10, lease_seconds=60, now=clock_now())
    clock.shift(timedelta(seconds=61))

    assert reap_expired_leases(now=clock_now()) == (1, 0)
    assert (fresh(delivery).status, fresh(delivery).lease_owner) == ("pending", "")


def test_an_expired_send_becomes_uncertain_and_the_sequence_moves_on(business, clock):
    delivery = enroll(business)
    Delivery.objects.filter(pk=delivery.pk).update(  # its call had started
        status="sending", lease_owner="dead-worker", lease_expires_at=START, sent_at=START
    )
    clock.shift(timedelta(minutes=1))

    assert reap_expired_leases(now=clock_now()) == (0, 1)
    assert fresh(delivery).status == "uncertain"
    assert next_touch(delivery).status == "pending"


def test_an_expired_send_whose_call_never_started_goes_back_to_pending(business, clock):
    delivery = enroll(business)
    Delivery.objects.filter(pk=delivery.pk).update(  # decided, then the worker died
        status="sending", lease_owner="dead-worker", lease_expires_at=START, sent_at=None
    )
    clock.shift(timedelta(minutes=1))

    assert reap_expired_leases(now=clock_now()) == (1, 0)
    assert (fresh(delivery).status, fresh(delivery).lease_owner) == ("pending", "")
    assert next_touch(delivery) is None


def test_claims_take_the_oldest_due_rows_up_to_the_limit(business, clock):
    deliveries = [enroll(business, make_customer(business, f"C{n}")) for n in range(5)]
    Delivery.objects.filter(pk=deliveries[3].pk).update(send_after=START - timedelta(hours=2))
    Delivery.objects.filter(pk=deliveries[1].pk).update(send_after=START - timedelta(hours=1))

    first = claim_due(owner="a", limit=2, lease_seconds=60, now=clock_now())
    again = claim_due(owner="b", limit=2, lease_seconds=60, now=clock_now())

    assert sorted(first) == sorted([deliveries[3].pk, deliveries[1].pk])
    assert again == []  # the rest are not due yet


def test_a_stop_request_finishes_the_send_in_flight_and_releases_the_rest(business, clock):
    from touchbase.delivery.backends.base import Sent, Transport
    from touchbase.delivery.engine import DeliveryEngine

    class StopsDuringFirstSend(Transport):
        """A provider that is slow enough for SIGTERM to arrive during the first call."""

        name = "slow"
        calls = 0

        def send(self, message, *, idempotency_key):
            StopsDuringFirstSend.calls += 1
            engine.stop_event.set()
            return Sent(f"slow-{idempotency_key}")

    engine = DeliveryEngine(
        batch_size=10, concurrency=1, owner="stopping", transports={"email": StopsDuringFirstSend()}
    )
    deliveries = [enroll(business, make_customer(business, f"C{n}")) for n in range(3)]
    at(clock, max(d.send_after for d in deliveries))

    outcome = engine.run_batch()

    statuses = sorted(fresh(d).status for d in deliveries)
    assert StopsDuringFirstSend.calls == 1
    assert statuses == ["pending", "pending", "sent"]
    assert outcome.counts["released"] == 2
    assert not Delivery.objects.filter(lease_owner="stopping").exists()


def test_a_customer_name_with_a_line_break_is_sent_on_one_subject_line(
    engine, business, clock, mailoutbox
):
    template = create_template(
        business=business,
        name="Named",
        channel="email",
        subject="{customer_name}, how did we do?",
        body="Hi {customer_first_name}: {review_link}",
    )
    campaign = make_campaign(business, "conservative")
    set_campaign_touches(campaign=campaign, touches=[TouchSpec("email", 4, template)])
    customer = make_customer(business, "Maria\r\nBcc: victim@example.com")
    delivery = enroll(business, customer)
    at(clock, delivery.send_after)

    engine.run_batch()

    assert fresh(delivery).status == "sent"
    assert mailoutbox[0].subject == "Maria Bcc: victim@example.com, how did we do?"
    assert "victim@example.com" not in mailoutbox[0].bcc
