"""The weekly owner digest: Monday 08:00 in the business's zone, once per member and
period, skipped when nothing happened, with the period's figures against the one before."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from tests.factories import make_business, make_customer, make_user
from tests.inbound.conftest import send_first_touch
from touchbase.digest.models import DigestSent
from touchbase.digest.sending import send_due_digests, unsubscribe_url
from touchbase.digest.services import set_digest_frequency
from touchbase.inbound.customer_actions import record_click, record_feedback
from touchbase.inbound.sms_replies import handle_inbound_sms
from touchbase.tenancy.services import add_member

pytestmark = pytest.mark.django_db
PHONE = "+13055550142"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def shop(name="Cool Air HVAC", zone="America/New_York", email="owner@example.com"):
    business = make_business(name, time_zone=zone)
    membership = add_member(business=business, user=make_user(email), role="owner")
    return business, membership


def digests(mailoutbox):
    return [m for m in mailoutbox if "your review requests" in m.subject]


def test_monday_8_in_new_york_moves_with_daylight_saving(clock, mailoutbox):
    business, _ = shop()
    clock.move_to(utc(2026, 2, 25, 15))  # the week before Monday March 2 (EST, UTC-5)
    send_first_touch(business)
    clock.move_to(utc(2026, 3, 2, 12, 59))
    send_due_digests()
    assert digests(mailoutbox) == []
    clock.move_to(utc(2026, 3, 2, 13, 0))  # 08:00 EST
    send_due_digests()
    assert len(digests(mailoutbox)) == 1

    clock.move_to(utc(2026, 3, 4, 15))  # activity in the week of the DST change (March 8)
    send_first_touch(business)
    clock.move_to(utc(2026, 3, 9, 11, 59))
    send_due_digests()
    assert len(digests(mailoutbox)) == 1
    clock.move_to(utc(2026, 3, 9, 12, 0))  # 08:00 EDT, an hour earlier in UTC
    send_due_digests()
    assert len(digests(mailoutbox)) == 2


def test_each_business_gets_it_at_8_in_its_own_zone(clock, mailoutbox):
    berlin, _ = shop("Kälte Berlin", "Europe/Berlin", "berlin@example.com")
    new_york, _ = shop("Cool Air HVAC", "America/New_York", "ny@example.com")
    clock.move_to(utc(2026, 3, 25, 12))  # Berlin moves to CEST on Sunday March 29
    send_first_touch(berlin)
    send_first_touch(new_york)

    clock.move_to(utc(2026, 3, 30, 6, 0))  # 08:00 CEST, 02:00 EDT
    send_due_digests()
    assert [m.to for m in digests(mailoutbox)] == [["berlin@example.com"]]
    clock.move_to(utc(2026, 3, 30, 12, 0))  # 08:00 EDT
    send_due_digests()
    assert [m.to for m in digests(mailoutbox)][1:] == [["ny@example.com"]]


def test_it_is_sent_once_per_member_and_period(clock, mailoutbox):
    business, _ = shop()
    clock.move_to(utc(2026, 2, 25, 15))
    send_first_touch(business)
    clock.move_to(utc(2026, 3, 2, 13, 5))

    assert send_due_digests() == {"sent": 1}
    clock.shift(timedelta(hours=3))
    assert send_due_digests() == {}
    assert len(digests(mailoutbox)) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_at_once_send_it_once(clock, mailoutbox):
    business, _ = shop()
    clock.move_to(utc(2026, 2, 25, 15))
    send_first_touch(business)
    clock.move_to(utc(2026, 3, 2, 13, 5))
    start = threading.Barrier(2)

    def worker():
        start.wait()
        try:
            send_due_digests()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(digests(mailoutbox)) == 1
    assert DigestSent.objects.get().status == "sent"


def test_an_idle_business_gets_no_digest(clock, mailoutbox):
    shop()
    clock.move_to(utc(2026, 3, 2, 13, 5))

    assert send_due_digests() == {"skipped": 1}
    assert digests(mailoutbox) == []


def test_members_choose_monthly_or_off(clock, mailoutbox):
    business, _weekly = shop()
    monthly = add_member(business=business, user=make_user("m@example.com"), role="staff")
    off = add_member(business=business, user=make_user("off@example.com"), role="staff")
    set_digest_frequency(membership=monthly, frequency="monthly")
    set_digest_frequency(membership=off, frequency="off")
    clock.move_to(utc(2026, 3, 18, 15))
    send_first_touch(business)

    clock.move_to(utc(2026, 3, 23, 12, 30))  # a Monday, not the month's first
    send_due_digests()
    assert [m.to for m in digests(mailoutbox)] == [["owner@example.com"]]
    clock.move_to(utc(2026, 4, 6, 12, 30))  # the first Monday of April: March's digest
    send_due_digests()
    monthly_mail = digests(mailoutbox)[-1]
    assert monthly_mail.to == ["m@example.com"] and "March 2026" in monthly_mail.subject
    assert not [m for m in digests(mailoutbox) if m.to == ["off@example.com"]]


def test_it_says_what_happened_against_the_week_before(clock, mailoutbox, settings):
    settings.PUBLIC_BASE_URL = "https://reviews.example.com"
    business, membership = shop()
    clock.move_to(utc(2026, 2, 18, 15))  # the week before: one sent
    send_first_touch(business)
    clock.move_to(utc(2026, 2, 25, 15))  # the digest's week
    clicked = send_first_touch(business)
    record_click(delivery=clicked.delivery, user_agent="Mozilla/5.0 (iPhone)")
    feedback = send_first_touch(business)
    record_feedback(delivery=feedback.delivery, message="The technician was late")
    texter = make_customer(business, "Sam Reply", phone=PHONE)
    handle_inbound_sms(message_sid="SM1", from_number=PHONE, body="Can you call me?")
    clock.move_to(utc(2026, 3, 2, 13, 0))
    send_due_digests()

    [mail] = digests(mailoutbox)
    text = mail.body
    assert "Review requests sent by email: 2 (+1 vs before)" in text
    assert "Review-link clicks: 1 (+1 vs before)" in text
    assert "Click rate: 50% (+50% vs before)" in text
    assert '"The technician was late"' in text
    assert f"https://reviews.example.com/customers/{texter.pk}/" in text
    assert "Coming week: " in text
    html, kind = mail.alternatives[0]
    assert kind == "text/html" and "Can you call me?" in html
    assert mail.extra_headers["List-Unsubscribe"] == f"<{unsubscribe_url(membership)}>"
    assert mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_one_click_unsubscribe_turns_it_off_without_a_login(clock, client):
    _business, membership = shop()
    path = unsubscribe_url(membership).split("://", 1)[1].split("/", 1)[1]

    assert client.get(f"/{path}").status_code == 200
    assert DigestSent.objects.count() == 0
    response = client.post(f"/{path}", {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    membership.digest_preference.refresh_from_db()
    assert membership.digest_preference.frequency == "off"
    assert client.post("/digest/unsubscribe/forged").status_code == 404


def test_worker_once_sends_the_digest_that_is_due(clock, mailoutbox):
    business, _ = shop()
    clock.move_to(utc(2026, 2, 25, 15))
    send_first_touch(business)
    clock.move_to(utc(2026, 3, 2, 13, 1))

    call_command("worker", once=True)

    assert len(digests(mailoutbox)) == 1
