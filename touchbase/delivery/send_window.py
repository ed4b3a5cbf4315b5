"""When a recipient may be contacted (PRODUCT §3, §8).

The recipient's zones: the customer's own time zone, else every zone `phonenumbers` gives
for the number's area code (all of them must allow the send: the most restrictive wins),
else the business's. The daily window is the business's window narrowed by the federal rule
and the recipient's state rule (looked up from the number), rebuilt for each local date so
DST changes move it correctly.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import phonenumbers
from phonenumbers import geocoder
from phonenumbers import timezone as phone_timezones

from touchbase.customers.models import Customer
from touchbase.delivery.models import SendWindowRule
from touchbase.tenancy.models import Business

US_STATES = {
    "Alabama": "AL",
    "Alaska": "AK",
    "Arizona": "AZ",
    "Arkansas": "AR",
    "California": "CA",
    "Colorado": "CO",
    "Connecticut": "CT",
    "Delaware": "DE",
    "Florida": "FL",
    "Georgia": "GA",
    "Hawaii": "HI",
    "Idaho": "ID",
    "Illinois": "IL",
    "Indiana": "IN",
    "Iowa": "IA",
    "Kansas": "KS",
    "Kentucky": "KY",
    "Louisiana": "LA",
    "Maine": "ME",
    "Maryland": "MD",
    "Massachusetts": "MA",
    "Michigan": "MI",
    "Minnesota": "MN",
    "Mississippi": "MS",
    "Missouri": "MO",
    "Montana": "MT",
    "Nebraska": "NE",
    "Nevada": "NV",
    "New Hampshire": "NH",
    "New Jersey": "NJ",
    "New Mexico": "NM",
    "New York": "NY",
    "North Carolina": "NC",
    "North Dakota": "ND",
    "Ohio": "OH",
    "Oklahoma": "OK",
    "Oregon": "OR",
    "Pennsylvania": "PA",
    "Rhode Island": "RI",
    "South Carolina": "SC",
    "South Dakota": "SD",
    "Tennessee": "TN",
    "Texas": "TX",
    "Utah": "UT",
    "Vermont": "VT",
    "Virginia": "VA",
    "Washington": "WA",
    "Washington D.C.": "DC",
    "West Virginia": "WV",
    "Wisconsin": "WI",
    "Wyoming": "WY",
}


@dataclass(frozen=True)
class DailyWindow:
    zone: zoneinfo.ZoneInfo
    start: time
    end: time
    no_sundays: bool = False

    def allows(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        if self.no_sundays and local.weekday() == 6:
            return False
        return self.start <= local.time() < self.end

    def opening_on(self, day: date) -> datetime:
        return datetime.combine(day, self.start, tzinfo=self.zone)


@dataclass(frozen=True)
class SendWindow:
    """The intersection of one daily window per recipient zone."""

    windows: tuple[DailyWindow, ...]

    def allows(self, at: datetime) -> bool:
        return all(window.allows(at) for window in self.windows)

    def next_opening(self, after: datetime) -> datetime:
        """The first instant at or after `after` when every window allows a send."""
        if self.allows(after):
            return after
        first_day = after.astimezone(self.windows[0].zone).date()
        candidates = sorted(
            window.opening_on(first_day + timedelta(days=offset))
            for window in self.windows
            for offset in range(-1, 9)
        )
        for candidate in candidates:
            if candidate >= after and self.allows(candidate):
                return candidate
        raise ValueError(f"no send window opens within a week of {after}")  # rules contradict

    def close_after(self, opening: datetime) -> datetime:
        """When the window that is open at `opening` closes (the earliest zone to close)."""
        return min(
            datetime.combine(opening.astimezone(w.zone).date(), w.end, tzinfo=w.zone)
            for w in self.windows
        )


def _parsed(phone: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(phone) if phone else None
    except phonenumbers.NumberParseException:
        return None


def us_state_of(phone: str) -> str | None:
    """Two-letter state of a US number from its area code ("Florida", "Chicago, IL")."""
    number = _parsed(phone)
    if number is None or phonenumbers.region_code_for_number(number) != "US":
        return None
    place = geocoder.description_for_number(number, "en")
    if "," in place:
        return place.rsplit(",", 1)[1].strip() or None
    return US_STATES.get(place)


def recipient_zones(customer: Customer, business: Business) -> list[zoneinfo.ZoneInfo]:
    if customer.time_zone:
        return [zoneinfo.ZoneInfo(customer.time_zone)]
    number = _parsed(customer.phone)
    if number is not None:
        names = [
            name
            for name in phone_timezones.time_zones_for_number(number)
            if name != phone_timezones.UNKNOWN_TIMEZONE
        ]
        if names:
            return [zoneinfo.ZoneInfo(name) for name in names]
    return [zoneinfo.ZoneInfo(business.time_zone)]


def load_rules() -> dict[str, SendWindowRule]:
    return {rule.region: rule for rule in SendWindowRule.objects.all()}


def window_for(
    customer: Customer, business: Business, rules: dict[str, SendWindowRule]
) -> SendWindow:
    start, end, no_sundays = business.send_window_start, business.send_window_end, False
    number = _parsed(customer.phone)
    is_us = number is None or phonenumbers.region_code_for_number(number) == "US"
    applicable = [rules.get("US")] if is_us else []
    state = us_state_of(customer.phone)
    if state:
        applicable.append(rules.get(f"US-{state}"))
    for rule in filter(None, applicable):
        start, end = max(start, rule.earliest), min(end, rule.latest)
        no_sundays = no_sundays or rule.no_sundays
    if start >= end:
        raise ValueError(f"empty send window for customer {customer.pk}")
    zones = recipient_zones(customer, business)
    return SendWindow(tuple(DailyWindow(zone, start, end, no_sundays) for zone in zones))
