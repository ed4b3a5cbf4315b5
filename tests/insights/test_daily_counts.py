"""The daily counts plus the live part give exactly what counting the rows gives: across a
local midnight, in a zone with daylight saving (the 23-hour day) and one half an hour off
UTC, and after late changes to a day already counted."""

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import complete_job, make_business, make_campaign, make_customer
from tests.processes import start_worker, worker_env
from tests.servers import TwilioStandIn
from touchbase.campaigns.models import Enrollment
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.delivery.services import mark_uncertain_sent
from touchbase.inbound.customer_actions import record_click
from touchbase.inbound.models import Event
from touchbase.inbound.receipts import handle_sms_status
from touchbase.insights.models import DailyCount, RollupState
from touchbase.insights.rollup import roll_up
from touchbase.insights.selectors import facts_since, totals
from touchbase.tenancy.models import Business
from touchbase.tenancy.services import update_business_settings
from touchbase.web.selectors import campaign_funnel, dashboard

pytestmark = pytest.mark.django_db
BROWSER = "Mozilla/5.0 (iPhone)"

# (zone, the local day "yesterday" of the story): New York's is the day clocks spring
# forward (23 hours); Kolkata is 5:30 ahead of UTC, so its midnight is no UTC hour.
ZONES = [("America/New_York", date(2026, 3, 8)), ("Asia/Kolkata", date(2026, 3, 2))]


def direct_count(business) -> Counter:
    """Each fact on its local day, counted row by row in Python (insights/facts.py's rules)."""
    tz = ZoneInfo(business.time_zone)
    counted: Counter = Counter()
    for delivery in Delivery.objects.filter(business=business):
        if delivery.status == DeliveryStatus.SENT:
            day = delivery.sent_at.astimezone(tz).date()
            counted[("sent", day)] += 1
            counted[("delivered", day)] += delivery.receipt_status == "delivered"
        if delivery.status in (DeliveryStatus.FAILED, DeliveryStatus.SKIPPED):
            counted[(delivery.status, delivery.send_after.astimezone(tz).date())] += 1
    for click in Event.objects.filter(business=business, kind="review_clicked"):
        counted[("clicked", click.occurred_at.astimezone(tz).date())] += 1
    for enrollment in Enrollment.objects.filter(business=business, status="stopped"):
        counted[("stopped", enrollment.stopped_at.astimezone(tz).date())] += 1
    for enrollment in Enrollment.objects.filter(business=business, status="completed"):
        counted[("completed", enrollment.completed_at.astimezone(tz).date())] += 1
    return +counted


def page_count(business, first_day: date) -> Counter:
    return +totals(facts_since(business, first_day), "day")


class Story:
    """One business's two days, each thing done at its own moment on the controlled clock."""

    def __init__(self, clock, zone: str, yesterday: date):
        self.clock, self.tz, self.yesterday = clock, ZoneInfo(zone), yesterday
        self.today = yesterday + timedelta(days=1)
        self.at(yesterday - timedelta(days=1), 12)
        self.business = make_business(f"Story {zone}", time_zone=zone)
        self.campaign = make_campaign(self.business, "standard", name="Everyone")
        self.touches = {name: self.enroll(name) for name in "abcdef"}

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        moment = datetime.combine(day, time(hour, minute), tzinfo=self.tz)
        self.clock.move_to(moment, tick=False)
        return moment

    def enroll(self, name: str) -> Delivery:
        job = complete_job(self.business, make_customer(self.business, name, phone=None)).job
        return Delivery.objects.get(enrollment__job=job)

    def change(self, name: str, **fields) -> None:
        # As every writer does (facts.py's note), the change sets updated_at.
        now = datetime.now(tz=self.tz)
        Delivery.objects.filter(pk=self.touches[name].pk).update(updated_at=now, **fields)
        self.touches[name].refresh_from_db()

    def sent(self, name: str, **fields) -> None:
        self.change(name, status="sent", sent_at=datetime.now(tz=self.tz), **fields)

    def live_the_two_days(self) -> None:
        y, t = self.yesterday, self.today
        self.at(y, 10)
        self.sent("f", provider_message_id="SMlate", channel="sms")
        self.at(y, 12)
        self.change("c", status="failed", send_after=datetime.now(tz=self.tz))
        self.at(y, 20)
        self.change("e", status="uncertain", sent_at=datetime.now(tz=self.tz))
        self.at(y, 23, 50)
        self.sent("a", receipt_status="delivered")
        self.at(y, 23, 55)
        record_click(delivery=self.touches["a"], user_agent=BROWSER)
        self.at(t, 0, 5)
        self.change("d", status="skipped", send_after=datetime.now(tz=self.tz))
        self.at(t, 0, 10)
        self.sent("b")


@pytest.fixture(params=ZONES, ids=[zone for zone, _ in ZONES])
def story(request, clock):
    zone, yesterday = request.param
    story = Story(clock, zone, yesterday)
    story.live_the_two_days()
    return story


def counted(business) -> Counter:
    rows: Counter = Counter()
    for row in DailyCount.objects.filter(business=business):
        rows[(row.fact, row.day)] += row.count
    return rows


def test_the_counts_plus_the_live_part_equal_a_direct_count(story):
    now = story.at(story.today, 1)
    roll_up()

    # Only facts older than an hour and a quarter are counted: a at 23:50 is not yet.
    state = RollupState.objects.get(business=story.business)
    assert state.counted_until == now - timedelta(minutes=75)
    assert counted(story.business)[("sent", story.yesterday)] == 1  # f at 10:00
    first_day = story.yesterday - timedelta(days=1)
    assert page_count(story.business, first_day) == direct_count(story.business)

    story.at(story.today, 3)
    roll_up()
    assert counted(story.business)[("sent", story.yesterday)] == 2  # f, a at 23:50
    assert counted(story.business)[("sent", story.today)] == 1  # b at 00:10
    assert page_count(story.business, first_day) == direct_count(story.business)
    assert page_count(story.business, story.today) == +Counter(
        {key: n for key, n in direct_count(story.business).items() if key[1] == story.today}
    )


def test_late_changes_to_a_counted_day_show_at_once_and_are_counted_again(story):
    story.at(story.today, 3)
    roll_up()
    story.at(story.today, 4)
    # A receipt hours later, an uncertain send settled by the owner, and a click today on
    # yesterday's text (a click belongs to the day of the click).
    handle_sms_status(message_sid="SMlate", status="delivered")
    mark_uncertain_sent(delivery=story.touches["e"])
    record_click(delivery=story.touches["f"], user_agent=BROWSER)

    first_day = story.yesterday - timedelta(days=1)
    page = page_count(story.business, first_day)  # before the worker looks again
    assert page == direct_count(story.business)
    assert (page[("sent", story.yesterday)], page[("delivered", story.yesterday)]) == (3, 2)
    assert (page[("clicked", story.yesterday)], page[("clicked", story.today)]) == (1, 1)

    story.at(story.today, 4, 30)
    roll_up()
    assert counted(story.business)[("sent", story.yesterday)] == 3
    assert page_count(story.business, first_day) == direct_count(story.business)

    later = story.at(story.today + timedelta(days=1), 3)
    roll_up()
    state = RollupState.objects.get(business=story.business)
    assert state.counted_until == later - timedelta(minutes=75)
    assert page_count(story.business, first_day) == direct_count(story.business)


def test_the_pages_show_the_direct_counts(story):
    story.at(story.today, 3)
    roll_up()
    story.at(story.today, 4)
    mark_uncertain_sent(delivery=story.touches["e"])
    direct = direct_count(story.business)

    trends = {trend.label: trend.this_week for trend in dashboard(story.business).trends}
    step1 = campaign_funnel(story.campaign, story.yesterday - timedelta(days=1))[0]

    week = [story.today - timedelta(days=n) for n in range(7)]
    assert trends["Sent"] == sum(direct[("sent", day)] for day in week) == 4
    assert trends["Clicked"] == 1
    assert (step1.sent, step1.delivered, step1.clicked) == (4, 1, 1)
    assert (step1.failed, step1.skipped) == (1, 1)


def test_several_periods_read_at_once_equal_each_read_alone(story):
    """facts_since_each shares the state, the late changes and the live part: each period's
    facts, per campaign or not, are what facts_since gives alone (and the direct count)."""
    from touchbase.insights.selectors import facts_since_each

    story.at(story.today, 3)
    roll_up()
    story.at(story.today, 4)
    mark_uncertain_sent(delivery=story.touches["e"])  # a late change: a stale day
    first_day = story.yesterday - timedelta(days=1)
    for campaign_id in (None, story.campaign.pk):
        for by_day in (True, False):
            each = facts_since_each(
                story.business, [first_day, None], campaign_id=campaign_id, by_day=by_day
            )
            alone = [
                facts_since(story.business, day, campaign_id=campaign_id, by_day=by_day)
                for day in (first_day, None)
            ]
            assert [totals(f, "day", "position") for f in each] == [
                totals(f, "day", "position") for f in alone
            ]
    assert +totals(facts_since_each(story.business, [first_day])[0], "day") == direct_count(
        story.business
    )


def test_a_second_pass_changes_nothing_and_a_new_time_zone_counts_again(story):
    story.at(story.today, 3)
    roll_up()
    before = sorted(DailyCount.objects.filter(business=story.business).values_list())
    assert roll_up()["days_added"] == 0
    assert sorted(DailyCount.objects.filter(business=story.business).values_list()) == before

    zone = "Pacific/Honolulu"
    update_business_settings(business=story.business, time_zone=zone)
    story.business.refresh_from_db()
    first_day = story.yesterday - timedelta(days=2)
    assert page_count(story.business, first_day) == direct_count(story.business)
    roll_up()
    assert RollupState.objects.get(business=story.business).time_zone == zone
    assert page_count(story.business, first_day) == direct_count(story.business)


def test_a_business_that_cannot_be_counted_is_logged_and_the_others_are_counted(story, caplog):
    broken = make_business("Broken zone")
    Business.objects.filter(pk=broken.pk).update(time_zone="Mars/Olympus_Mons")
    story.at(story.today, 3)

    assert roll_up()["businesses_failed"] == 1

    assert f"daily counts of business {broken.pk} failed" in caplog.text
    assert counted(story.business)[("sent", story.yesterday)] == 2


@pytest.fixture
def stand_in():
    server = TwilioStandIn().start()
    yield server
    server.stop()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_three_worker_processes_counting_at_once_agree_with_a_direct_count(time_machine, stand_in):
    stories = []
    for zone, yesterday in ZONES:
        stories.append(Story(time_machine, zone, yesterday))
        stories[-1].live_the_two_days()
    # The workers run on the real clock: they count from the story's days, a pass at a time.
    env = worker_env(stand_in)

    workers = [start_worker(env, "--once") for _ in range(3)]
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0, 0], outputs
    for story in stories:
        state = RollupState.objects.get(business=story.business)
        assert state.counted_until > story.at(story.today, 0)
        first_day = story.yesterday - timedelta(days=1)
        assert page_count(story.business, first_day) == direct_count(story.business)
