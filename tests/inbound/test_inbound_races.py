"""Replays and duplicates arriving at the same moment: only PostgreSQL runs them truly
concurrently (row locks, unique-index waits)."""

import threading

import pytest
from django.db import connection

from tests.factories import make_business
from tests.inbound.conftest import send_first_touch
from touchbase.customers.models import ConsentRecord
from touchbase.inbound import customer_actions, sms_replies
from touchbase.inbound.models import Event, InboundSms

# serialized_rollback: restore the data migrations' rows (presets, templates, rules) after the
# flush, like every transactional test here; mixing the two modes breaks the next test.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"


def race(count: int, action) -> tuple[list, list]:
    start = threading.Barrier(count)
    results, errors = [], []

    def run(n):
        try:
            start.wait()
            results.append(action(n))
        except Exception as exc:  # surfaced by the caller's assertions
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_eight_stops_at_once_send_one_confirmation_and_write_one_opt_out():
    business = make_business()
    send_first_touch(business, preset_key="aggressive", phone="3055550142", sms_consent=True)

    # ALTO: a word touchbase confirms itself (Twilio confirms STOP, so touchbase is silent).
    results, errors = race(
        8,
        lambda n: sms_replies.handle_inbound_sms(
            message_sid=f"SM{n}", from_number="+13055550142", body="ALTO"
        ),
    )

    assert errors == []
    assert sum(1 for result in results if result.answer_text) == 1
    assert InboundSms.objects.count() == 8
    assert ConsentRecord.objects.filter(action="opt_out").count() == 1


def test_eight_clicks_at_once_stop_the_sequence_once():
    business = make_business(review_url="https://example.com/review")
    sent = send_first_touch(business)
    delivery = sent.delivery

    results, errors = race(
        8, lambda n: customer_actions.record_click(delivery=delivery, user_agent=BROWSER)
    )

    assert errors == []
    assert sum(result.stopped for result in results) == 1
    assert sum(result.first for result in results) == 1
    assert sent.enrollment.stop_reason == "review_clicked"
    assert Event.objects.filter(kind="review_clicked").count() == 1
