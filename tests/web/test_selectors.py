"""The numbers the dashboard and the campaign page show, computed by aggregate queries."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import complete_job, make_business, make_campaign, make_customer
from touchbase import clock as tb_clock
from touchbase.campaigns.enrollment import stop_enrollment
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.inbound.customer_actions import record_click
from touchbase.inbound.models import Event
from touchbase.web.selectors import campaign_funnel, dashboard, stop_reasons
from touchbase.web.upcoming import upcoming_sends

pytestmark = pytest.mark.django_db


@pytest.fixture
def business(clock):
    business = make_business("Bright Air", time_zone="America/New_York")
    make_campaign(business, "standard", name="Everyone")
    return business


def enroll(business, name: str, **fields):
    customer = make_customer(business, name, **fields)
    job = complete_job(business, customer).job
    return Delivery.objects.get(enrollment__job=job)


def mark_sent(delivery, at, receipt=""):
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENT, sent_at=at, receipt_status=receipt
    )


def test_the_dashboard_counts_this_week_against_last_week(business):
    now = tb_clock.now()
    mark_sent(enroll(business, "A"), now - timedelta(hours=2), receipt="delivered")
    mark_sent(enroll(business, "B"), now - timedelta(days=2))
    mark_sent(enroll(business, "C"), now - timedelta(days=9), receipt="delivered")
    clicked = enroll(business, "D")
    mark_sent(clicked, now - timedelta(hours=1))
    record_click(delivery=clicked, user_agent="Mozilla/5.0 (iPhone)")

    trends = {trend.label: trend for trend in dashboard(business).trends}

    assert (trends["Sent"].this_week, trends["Sent"].last_week) == (3, 1)
    assert (trends["Delivered"].this_week, trends["Delivered"].last_week) == (1, 1)
    assert (trends["Clicked"].this_week, trends["Clicked"].direction) == (1, "up")


def test_the_dashboard_lists_what_needs_attention_and_why_jobs_were_not_enrolled(business):
    failed = enroll(business, "A")
    Delivery.objects.filter(pk=failed.pk).update(
        status=DeliveryStatus.FAILED, error_message="invalid number"
    )
    customer = make_customer(business, "B")
    complete_job(business, customer, service_type="hvac")
    complete_job(business, customer, service_type="hvac")  # cooldown

    dash = dashboard(business)

    assert dash.attention_count == 1 and dash.attention_deliveries[0].pk == failed.pk
    assert [(r["label"], r["count"]) for r in dash.not_enrolled_reasons] == [
        ("Customer was enrolled recently", 1)
    ]
    assert dash.due_count == 1  # B's first touch is due within 7 days


def test_the_dashboard_never_counts_another_business(business):
    other = make_business("Other")
    make_campaign(other, "standard")
    mark_sent(enroll(other, "X"), tb_clock.now())

    assert [trend.this_week for trend in dashboard(business).trends] == [0, 0, 0]


def test_the_funnel_counts_each_touch_and_the_clicks_on_it(business):
    first = enroll(business, "A")
    mark_sent(first, tb_clock.now(), receipt="delivered")
    second = enroll(business, "B")
    mark_sent(second, tb_clock.now())
    Event.objects.create(
        business=business,
        source="touchbase",
        external_id="click-1",
        kind="review_clicked",
        delivery=first,
        occurred_at=tb_clock.now(),
    )
    enroll(business, "C")
    campaign = first.enrollment.campaign

    step1 = campaign_funnel(campaign)[0]

    assert (step1.sent, step1.delivered, step1.clicked, step1.waiting) == (2, 1, 1, 1)
    assert (step1.delivered_percent, step1.clicked_percent) == (50, 50)
    assert [step.position for step in campaign_funnel(campaign)] == [1, 2, 3]


def test_stop_reasons_are_counted(business):
    delivery = enroll(business, "A")
    stop_enrollment(enrollment=delivery.enrollment)

    assert stop_reasons(delivery.enrollment.campaign) == [
        {"reason": "owner_stopped", "label": "Stopped by the owner", "count": 1}
    ]


def test_upcoming_sends_project_later_touches_into_the_send_window(business):
    delivery = enroll(business, "A", time_zone="America/New_York")
    campaign = delivery.enrollment.campaign

    upcoming = upcoming_sends(campaign)

    # Touch 1 after 24 h, touch 2 three days later: both inside 7 days; touch 3 (+7 d) not.
    assert [(s.position, s.projected) for s in upcoming.sends] == [(1, False), (2, True)]
    for send in upcoming.sends[1:]:
        local = send.at.astimezone(ZoneInfo("America/New_York"))
        assert 9 <= local.hour < 20
    assert upcoming.next_touch_total == 1


def test_upcoming_sends_spread_past_the_hourly_throttle(business):
    from touchbase.tenancy.services import update_business_settings

    update_business_settings(business=business, email_hourly_limit=1)
    first, _second = enroll(business, "A"), enroll(business, "B")

    sends = [s for s in upcoming_sends(first.enrollment.campaign).sends if s.position == 1]

    assert sends[1].at - sends[0].at >= timedelta(minutes=30)


def test_the_funnel_of_a_period_leaves_out_older_sends(business, clock):
    old = enroll(business, "Old")
    mark_sent(old, tb_clock.now())
    clock.shift(timedelta(days=40))
    recent = enroll(business, "Recent")
    mark_sent(recent, tb_clock.now())
    campaign = recent.enrollment.campaign

    today = tb_clock.now().astimezone(ZoneInfo(business.time_zone)).date()
    last_30_days = campaign_funnel(campaign, today - timedelta(days=29))

    assert last_30_days[0].sent == 1
    assert campaign_funnel(campaign)[0].sent == 2


def test_waiting_and_upcoming_per_day_share_one_read_equal_to_a_direct_count(business):
    """The funnel's "waiting" and the upcoming sends per day come from one grouped read of
    the pending touches (upcoming.pending_touches): both equal counting the rows."""
    from collections import Counter

    from touchbase.campaigns.models import LIVE_ENROLLMENT_STATUSES
    from touchbase.web.upcoming import HORIZON, pending_touches

    now = tb_clock.now()
    offsets = [1, 5, 30, 71, 160, 167, 170, 200, 480]  # hours: inside and past the 7 days
    deliveries = [enroll(business, f"C{i}") for i in range(len(offsets) + 3)]
    for delivery, hours in zip(deliveries, offsets, strict=False):
        Delivery.objects.filter(pk=delivery.pk).update(
            send_after=now + timedelta(hours=hours), position=1 + hours % 3
        )
    held, ended, sent = deliveries[-3:]
    Delivery.objects.filter(pk=held.pk).update(status=DeliveryStatus.HELD)
    mark_sent(sent, now)
    stop_enrollment(enrollment=ended.enrollment)
    Delivery.objects.filter(pk=ended.pk).update(status=DeliveryStatus.PENDING)  # not live
    campaign = held.enrollment.campaign

    rows = list(Delivery.objects.filter(enrollment__campaign=campaign).select_related("enrollment"))
    live = [row for row in rows if row.enrollment.status in LIVE_ENROLLMENT_STATUSES]
    waiting = Counter(
        row.position for row in live if row.status in (DeliveryStatus.PENDING, DeliveryStatus.HELD)
    )
    tz = ZoneInfo(business.time_zone)
    per_day = Counter(
        row.send_after.astimezone(tz).date()
        for row in live
        if row.status == DeliveryStatus.PENDING and row.send_after < now + HORIZON
    )

    pending = pending_touches(campaign)
    funnel = campaign_funnel(campaign, pending=pending)
    upcoming = upcoming_sends(campaign, pending=pending)

    assert {step.position: step.waiting for step in funnel if step.waiting} == waiting
    assert upcoming.per_day == sorted(per_day.items())
    assert upcoming.next_touch_total == sum(per_day.values()) == 6
    assert campaign_funnel(campaign) == funnel  # the same without the shared read
    assert upcoming_sends(campaign).per_day == upcoming.per_day
