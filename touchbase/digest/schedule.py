"""When a digest is due: Monday 08:00 in the business's zone (weekly, covering Monday to
Sunday before it) or the first Monday of the month at 08:00 (monthly, covering the month
before). Wall-clock times in the zone, so a DST change moves the UTC instant, not 08:00."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SEND_AT = time(8, 0)
# A worker that was down on Monday morning still sends within this long, then lets it go.
CATCH_UP = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    frequency: str
    start: datetime  # local midnight, inclusive
    end: datetime  # local midnight, exclusive

    @property
    def previous(self) -> "Period":
        if self.frequency == "weekly":
            return _weekly(self.start.date() - timedelta(days=7), self.start.tzinfo)
        return _monthly(_month_before(self.start.date()), self.start.tzinfo)

    @property
    def label(self) -> str:
        last = (self.end - timedelta(days=1)).date()
        if self.frequency == "monthly":
            return self.start.strftime("%B %Y")
        return f"{self.start:%b %-d} to {last:%b %-d, %Y}"


def _midnight(day: date, zone) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _weekly(start: date, zone) -> Period:
    return Period("weekly", _midnight(start, zone), _midnight(start + timedelta(days=7), zone))


def _month_before(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def _monthly(start: date, zone) -> Period:
    following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Period("monthly", _midnight(start, zone), _midnight(following, zone))


def _first_monday(month_start: date) -> date:
    return month_start + timedelta(days=(7 - month_start.weekday()) % 7)


def due_period(frequency: str, now: datetime, time_zone: str) -> Period | None:
    """The period whose digest is due at `now`, or None (not yet, or too late)."""
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    if frequency == "weekly":
        send_day = today - timedelta(days=today.weekday())
        period = _weekly(send_day - timedelta(days=7), zone)
    elif frequency == "monthly":
        send_day = _first_monday(today.replace(day=1))
        if send_day > today:
            send_day = _first_monday(_month_before(today))
        period = _monthly(_month_before(send_day), zone)
    else:
        return None
    send_at = datetime.combine(send_day, SEND_AT, tzinfo=zone)
    return period if timedelta(0) <= now - send_at < CATCH_UP else None


def current_week(now: datetime, time_zone: str) -> Period:
    """This week so far (Monday 00:00 to now's week end): what the preview page shows."""
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    return _weekly(today - timedelta(days=today.weekday()), zone)
