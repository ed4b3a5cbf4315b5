"""The one clock of touchbase.

Every decision about time reads `clock.now()` (aware, UTC), never `datetime.now()` and never
the database's `now()`, so a test can move time with time-machine and one decision never
mixes two clocks.
"""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
