"""Validators shared by several apps. Each error names the value and what is wrong with it."""

import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in _time_zones():
        raise ValidationError(
            "%(value)r is not an IANA time zone (for example America/New_York)",
            code="invalid_time_zone",
            params={"value": value},
        )
