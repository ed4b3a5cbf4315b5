"""When a recipient may be contacted (PRODUCT §3, §8).

The recipient's zones: the customer's own time zone, else every zone `phonenumbers` gives
for the number's area code (all of them must allow the send: the most restrictive wins),
else the business's. A non-geographic number (toll-free, 5XX/N00 codes, or any number whose
zones span its whole country code) says nothing about where its owner is, so it counts as
unknown. The daily window is the business's window narrowed by the federal rule and the
recipient's state rule (looked up from the number), rebuilt for each local date so DST
changes move it correctly.

Nothing here raises on a customer's data: a window that the rules leave empty (an owner
window of 20:00-21:00 against Florida's 08:00-20:00) is an empty `SendWindow`, and
`next_opening` answers `None` ("no legal window": the engine skips the touch).
"""

import time as monotonic
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

import phonenumbers
from phonenumbers import timezone as phone_timezones

from touchbase.customers.models import Customer
from touchbase.delivery.models import AreaCodeState, SendWindowRule
from touchbase.tenancy.models import Business


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
    """The intersection of one daily window per recipient zone; no windows: never open."""

    windows: tuple[DailyWindow, ...]

    def allows(self, at: datetime) -> bool:
        return bool(self.windows) and all(window.allows(at) for window in self.windows)

    def next_opening(self, after: datetime) -> datetime | None:
        """The first instant at or after `after` when every window allows a send, or None
        when none opens within a week (the rules leave this recipient no legal window)."""
        if not self.windows or self.allows(after):
            return after if self.windows else None
        first_day = after.astimezone(self.windows[0].zone).date()
        candidates = sorted(
            window.opening_on(first_day + timedelta(days=offset))
            for window in self.windows
            for offset in range(-1, 9)
        )
        for candidate in candidates:
            if candidate >= after and self.allows(candidate):
                return candidate
        return None


NO_LEGAL_WINDOW = "no_legal_window"


@dataclass(frozen=True)
class PhoneFacts:
    region: str | None  # ISO country, e.g. "US"
    us_state: str | None  # e.g. "FL"
    zones: tuple[str, ...]  # IANA zones of the number's area, () when unknown


def phone_facts(phone: str) -> PhoneFacts:
    """Country, US state and time zones of a number. Parsing is the worker's costliest step
    per touch, and everything here depends only on the number's prefix (a North American
    area code and exchange), so the answer is cached per prefix."""
    key = phone[:8] if phone.startswith("+1") else phone
    area_code_states()  # forgets the cached facts when the states are re-read
    facts = _FACTS_BY_PREFIX.get(key)
    if facts is None:
        if len(_FACTS_BY_PREFIX) > 20_000:
            _FACTS_BY_PREFIX.clear()
        facts = _FACTS_BY_PREFIX[key] = _facts_of(phone)
    return facts


_FACTS_BY_PREFIX: dict[str, PhoneFacts] = {}


def _facts_of(phone: str) -> PhoneFacts:
    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return PhoneFacts(None, None, ())
    region = phonenumbers.region_code_for_number(number)
    zones = tuple(
        name
        for name in phone_timezones.time_zones_for_number(number)
        if name != phone_timezones.UNKNOWN_TIMEZONE
    )
    if phonenumbers.number_type(number) in NON_GEOGRAPHIC or spans_country(number, zones):
        zones = ()
    state = area_code_states().get(phone[2:5]) if region == "US" else None
    return PhoneFacts(region, state, zones)


NON_GEOGRAPHIC = {
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    phonenumbers.PhoneNumberType.UAN,
    phonenumbers.PhoneNumberType.PAGER,
    phonenumbers.PhoneNumberType.VOICEMAIL,
}


def spans_country(number: phonenumbers.PhoneNumber, zones: tuple[str, ...]) -> bool:
    """True when a number's zones are all of its country code's: it tells us nothing."""
    return len(zones) > 1 and set(zones) >= set(_country_zones(number.country_code))


@cache
def _country_zones(country_code: int) -> tuple[str, ...]:
    return phone_timezones.time_zones_for_geographical_number(
        phonenumbers.PhoneNumber(country_code=country_code, national_number=0)
    )


AREA_CODES_FRESH_FOR = 60.0  # seconds: an operator's edit in the admin reaches running workers
_area_codes: tuple[float, dict[str, str]] = (float("-inf"), {})


def area_code_states() -> dict[str, str]:
    """Area code -> state, from the AreaCodeState table (re-read every minute)."""
    global _area_codes
    loaded_at, states = _area_codes
    if monotonic.monotonic() - loaded_at > AREA_CODES_FRESH_FOR:
        states = dict(AreaCodeState.objects.values_list("area_code", "state"))
        _area_codes = (monotonic.monotonic(), states)
        _FACTS_BY_PREFIX.clear()  # they hold the states read before
    return states


def us_state_of(phone: str) -> str | None:
    """Two-letter state of a US number from its area code."""
    return phone_facts(phone).us_state if phone else None


def recipient_zones(customer: Customer, business: Business) -> list[zoneinfo.ZoneInfo]:
    if customer.time_zone:
        return [zoneinfo.ZoneInfo(customer.time_zone)]
    zones = phone_facts(customer.phone).zones if customer.phone else ()
    return [zoneinfo.ZoneInfo(name) for name in zones or (business.time_zone,)]


def load_rules() -> dict[str, SendWindowRule]:
    return {rule.region: rule for rule in SendWindowRule.objects.all()}


def window_for(
    customer: Customer, business: Business, rules: dict[str, SendWindowRule]
) -> SendWindow:
    start, end, no_sundays = business.send_window_start, business.send_window_end, False
    facts = phone_facts(customer.phone) if customer.phone else PhoneFacts("US", None, ())
    # An unknown country gets the US rules: the stricter assumption.
    applicable = [rules.get("US")] if facts.region in ("US", None) else []
    state = facts.us_state
    if state:
        applicable.append(rules.get(f"US-{state}"))
    for rule in filter(None, applicable):
        start, end = max(start, rule.earliest), min(end, rule.latest)
        no_sundays = no_sundays or rule.no_sundays
    if start >= end:
        return SendWindow(())  # the owner's window and the law do not overlap
    zones = recipient_zones(customer, business)
    return SendWindow(tuple(DailyWindow(zone, start, end, no_sundays) for zone in zones))


def states_excluded_by(start: time, end: time, rules: dict[str, SendWindowRule]) -> list[str]:
    """The US states whose law leaves no time inside an owner's window (settings page)."""
    federal = rules.get("US")
    if federal:
        start, end = max(start, federal.earliest), min(end, federal.latest)
    return sorted(
        region.removeprefix("US-")
        for region, rule in rules.items()
        if region.startswith("US-")
        and (start >= end or max(start, rule.earliest) >= min(end, rule.latest))
    )
