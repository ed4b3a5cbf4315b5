"""Send windows in the recipient's time zone, state rules, both DST changes (PRODUCT §8)."""

from datetime import UTC, datetime, time, timedelta

import pytest

from tests.factories import complete_job, make_business, make_campaign, make_customer
from touchbase.delivery.models import Delivery, SendWindowRule
from touchbase.delivery.send_window import load_rules, us_state_of, window_for

pytestmark = pytest.mark.django_db

# Monday 2026-03-02 13:30 UTC: 08:30 in New York, 05:30 in Los Angeles, 03:30 in Honolulu.
EARLY_MONDAY = datetime(2026, 3, 2, 13, 30, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def business():
    # The owner opened the window to the legal maximum so the state rules show.
    return make_business(
        "Coast to Coast",
        time_zone="America/New_York",
        send_window_start=time(8),
        send_window_end=time(21),
        email_hourly_limit=1000,
        sms_hourly_limit=1000,
    )


def opening_for(business, when: datetime, **customer) -> datetime:
    window = window_for(make_customer(business, **customer), business, load_rules())
    return window.next_opening(when)


@pytest.mark.parametrize(
    ("customer", "opens_at"),
    [
        ({"time_zone": "America/New_York"}, EARLY_MONDAY),  # 08:30: open
        ({"phone": "(305) 555-0142"}, EARLY_MONDAY),  # Florida number, no zone: 08-20
        ({"phone": "(310) 555-0199"}, utc(2026, 3, 2, 16)),  # Los Angeles by area code
        ({"time_zone": "Pacific/Honolulu"}, utc(2026, 3, 2, 18)),
        ({"phone": "(808) 555-0111"}, utc(2026, 3, 2, 18)),  # Honolulu by area code
        ({"phone": "(502) 555-0100"}, utc(2026, 3, 2, 15)),  # Kentucky: from 10:00
        ({"phone": "(203) 555-0100"}, utc(2026, 3, 2, 14)),  # Connecticut: from 09:00
        ({}, EARLY_MONDAY),  # no zone, no phone: the business's zone
    ],
)
def test_the_window_opens_in_the_recipients_zone_and_state(business, customer, opens_at):
    assert opening_for(business, EARLY_MONDAY, **customer) == opens_at


def test_the_customers_own_zone_wins_over_the_area_code(business):
    # A New York number whose owner moved to Los Angeles.
    opens = opening_for(
        business, EARLY_MONDAY, phone="(212) 555-0123", time_zone="America/Los_Angeles"
    )
    assert opens == utc(2026, 3, 2, 16)


def test_florida_closes_at_20_where_the_federal_rule_allows_21(business):
    late = utc(2026, 3, 3, 1, 30)  # Monday 20:30 in Miami and New York
    assert opening_for(business, late, time_zone="America/New_York") == late
    assert opening_for(business, late, phone="(305) 555-0142") == utc(2026, 3, 3, 13)


def test_no_sunday_sends_in_alabama(business):
    sunday_noon = utc(2026, 3, 1, 18)  # 12:00 in Birmingham (CST)
    assert opening_for(business, sunday_noon, phone="(205) 555-0100") == utc(2026, 3, 2, 14)
    assert opening_for(business, sunday_noon, phone="(404) 555-0100") == sunday_noon  # Georgia


def test_spring_forward_opens_at_local_0800_daylight_time(business):
    saturday_night = utc(2026, 3, 8, 3)  # Sat 22:00 EST; clocks go forward Sunday 02:00
    assert opening_for(business, saturday_night, time_zone="America/New_York") == utc(
        2026, 3, 8, 12
    )  # Sunday 08:00 EDT
    la_saturday_night = utc(2026, 3, 8, 6)  # Sat 22:00 PST
    assert opening_for(business, la_saturday_night, time_zone="America/Los_Angeles") == utc(
        2026, 3, 8, 15
    )  # Sunday 08:00 PDT
    honolulu_saturday_night = utc(2026, 3, 8, 8)  # Sat 22:00 HST
    assert opening_for(business, honolulu_saturday_night, time_zone="Pacific/Honolulu") == utc(
        2026, 3, 8, 18
    )  # Honolulu has no DST: 08:00 HST is 18:00 UTC before and after


def test_fall_back_opens_at_local_0800_standard_time(business):
    saturday_night = utc(2026, 11, 1, 2)  # Sat 22:00 EDT; clocks go back Sunday 02:00
    assert opening_for(business, saturday_night, time_zone="America/New_York") == utc(
        2026, 11, 1, 13
    )  # Sunday 08:00 EST
    la_saturday_night = utc(2026, 11, 1, 5)  # Sat 22:00 PDT
    assert opening_for(business, la_saturday_night, time_zone="America/Los_Angeles") == utc(
        2026, 11, 1, 16
    )  # Sunday 08:00 PST


def test_a_number_spanning_two_zones_gets_the_most_restrictive_window(business):
    # A customer with two possible zones must be inside both windows.
    from zoneinfo import ZoneInfo

    from touchbase.delivery.send_window import DailyWindow, SendWindow

    window = SendWindow(
        (
            DailyWindow(ZoneInfo("America/New_York"), time(8), time(21)),
            DailyWindow(ZoneInfo("America/Chicago"), time(8), time(21)),
        )
    )
    assert window.next_opening(utc(2026, 3, 2, 13, 30)) == utc(2026, 3, 2, 14)  # 08:00 CST
    assert not window.allows(utc(2026, 3, 3, 2, 30))  # 21:30 EST, 20:30 CST


def test_rules_are_data_an_operator_can_change(business):
    SendWindowRule.objects.filter(region="US-FL").update(earliest=time(11))

    assert opening_for(business, EARLY_MONDAY, phone="(305) 555-0142") == utc(2026, 3, 2, 16)


def test_owner_window_narrows_the_law_never_widens_it(business):
    business.send_window_start, business.send_window_end = time(10), time(18)
    assert opening_for(business, EARLY_MONDAY, time_zone="America/New_York") == utc(2026, 3, 2, 15)


def test_state_lookup_from_the_area_code():
    assert [us_state_of(n) for n in ["+13055550142", "+13125550100", "+442071838750", ""]] == [
        "FL",
        "IL",
        None,
        None,
    ]


# --- the engine defers into the window ---------------------------------------------------------


def test_touches_due_at_night_reopen_spread_over_the_first_minutes(engine, clock, mailoutbox):
    clock.move_to(utc(2026, 3, 2, 23), tick=False)  # 18:00 in New York
    business = make_business(
        "Night Owls", time_zone="America/New_York", email_hourly_limit=1000, sms_hourly_limit=1000
    )
    business.service_type_timing = {"hvac": 4}  # due at 22:00
    business.save()
    make_campaign(business, "conservative")
    for n in range(40):
        complete_job(
            business, make_customer(business, f"Customer {n}", time_zone="America/New_York")
        )
    clock.move_to(utc(2026, 3, 3, 3), tick=False)  # 22:00

    engine.run_batch()

    deferred = Delivery.objects.filter(defer_reason="send_window")
    assert deferred.count() == 40 and mailoutbox == []
    opening = utc(2026, 3, 3, 14)  # Tuesday 09:00 EST
    times = sorted(deferred.values_list("send_after", flat=True))
    assert opening <= times[0] and times[-1] < opening + timedelta(minutes=30)
    assert len(set(times)) >= 30  # spread out, not a thundering herd at 09:00:00

    for _ in range(200):  # a running worker: wake at each next due time
        due = Delivery.objects.filter(status="pending", position=1).order_by("send_after").first()
        if due is None:
            break
        clock.move_to(due.send_after, tick=False)
        engine.run_batch()
    sent_at = sorted(Delivery.objects.filter(status="sent").values_list("sent_at", flat=True))
    assert len(sent_at) == len(mailoutbox) == 40
    assert opening <= sent_at[0] and sent_at[-1] < opening + timedelta(minutes=31)


# --- numbers and windows that say nothing, or leave nothing -------------------------------------


@pytest.mark.parametrize("phone", ["+1 800 555 1212", "+1 500 555 0006", "+1 888 555 0100"])
def test_a_non_geographic_number_uses_the_business_zone(business, phone):
    # Their 42 possible zones would leave no instant open everywhere.
    assert opening_for(business, EARLY_MONDAY, phone=phone) == EARLY_MONDAY  # 08:30 in New York


def test_a_non_geographic_number_uses_the_customers_zone_when_known(business):
    opens = opening_for(
        business, EARLY_MONDAY, phone="+1 800 555 1212", time_zone="America/Los_Angeles"
    )
    assert opens == utc(2026, 3, 2, 16)  # 08:00 in Los Angeles


def test_an_owner_window_the_state_law_forbids_has_no_opening(business):
    business.send_window_start, business.send_window_end = time(20), time(21)

    assert opening_for(business, EARLY_MONDAY, phone="(305) 555-0142") is None  # FL: 08-20
    assert opening_for(business, EARLY_MONDAY, phone="(212) 555-0123") == utc(2026, 3, 3, 1)


def test_the_settings_note_names_the_states_an_owner_window_excludes():
    from touchbase.delivery.send_window import states_excluded_by

    rules = load_rules()
    assert "FL" in states_excluded_by(time(20), time(21), rules)
    assert "NY" not in states_excluded_by(time(20), time(21), rules)
    assert states_excluded_by(time(9), time(17), rules) == []


def test_an_area_code_edited_in_the_admin_reaches_a_running_worker(business, monkeypatch):
    from touchbase.delivery import send_window
    from touchbase.delivery.models import AreaCodeState

    # This test's own caches: the edit is rolled back after it.
    monkeypatch.setattr(send_window, "_FACTS_BY_PREFIX", {})
    monkeypatch.setattr(send_window, "_area_codes", (float("-inf"), {}))
    assert us_state_of("+13055550142") == "FL"
    AreaCodeState.objects.filter(area_code="305").update(state="GA")
    monkeypatch.setattr(send_window, "AREA_CODES_FRESH_FOR", 0.0)  # a minute has passed

    assert us_state_of("+13055550142") == "GA"
