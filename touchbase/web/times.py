"""How the owner reads a moment: one format on every page, always with its zone named.

Pages render in the business's time zone (web/current.py activates it); consent times are
shown in UTC where the column says UTC, because that is what a TCPA record must prove.
"""

from datetime import UTC, date, datetime

from django.utils import timezone

WHEN_FORMAT = "%a %b %-d, %Y, %H:%M %Z"  # Mon Mar 2, 2026, 10:00 EST
DAY_FORMAT = "%a %b %-d, %Y"  # Mon Mar 2, 2026


def when(moment: datetime | None) -> str:
    """A moment in the active (the business's) time zone, zone named."""
    if moment is None:
        return ""
    return timezone.localtime(moment).strftime(WHEN_FORMAT)


def when_utc(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%a %b %-d, %Y, %H:%M UTC")


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return value.strftime(DAY_FORMAT)
