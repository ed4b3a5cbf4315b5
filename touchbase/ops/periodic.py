"""The worker's periodic duties beside sending touches: webhook deliveries and retries,
owner digests, the daily counts of the owner's pages (insights/rollup.py) and web imports
(on a thread of their own, see `imports.background`). The worker loop calls
`run_periodic_duties` once per turn.

They run on one background thread (at most one pass at a time, at most one pass a second),
so a slow or dead webhook receiver never delays a review request; `wait=True` runs the pass
inline instead (`touchbase worker --once`, cron, tests), so those runs see every duty too.
"""

import logging
import threading
import time
from datetime import datetime

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

MIN_INTERVAL_SECONDS = 1.0
DIGEST_INTERVAL_SECONDS = 60.0
WEBHOOK_PASSES = 20
_last_digests = float("-inf")
_one_pass = threading.Lock()
_last_start = 0.0


def run_periodic_duties(now: datetime | None = None, *, wait: bool = False) -> dict | None:
    """One pass of every duty; returns its counts when `wait`, else None at once."""
    global _last_start
    if wait:
        with _one_pass:
            return _duties(now)
    if time.monotonic() - _last_start < MIN_INTERVAL_SECONDS:
        return None
    if not _one_pass.acquire(blocking=False):
        return None  # the previous pass is still posting
    _last_start = time.monotonic()
    threading.Thread(target=_in_background, name="periodic-duties", daemon=True).start()
    return None


def _in_background() -> None:
    try:
        _duties(None, every_duty=False)
    except Exception:  # a duty's bug must not end the thread's future passes
        logger.exception("periodic duties failed")
    finally:
        connection.close()  # this thread's own connection
        _one_pass.release()


def _duties(now: datetime | None, *, every_duty: bool = True) -> dict:
    from touchbase.digest.sending import send_due_digests
    from touchbase.imports.background import run_due_imports
    from touchbase.insights.rollup import roll_up
    from touchbase.webhooks.sending import deliver_due

    global _last_digests
    counts = {"webhooks": {}}
    for _ in range(WEBHOOK_PASSES):  # a backlog drains at many passes' pace, not one a second
        delivered = deliver_due(now=now)
        for status, count in delivered.items():
            counts["webhooks"][status] = counts["webhooks"].get(status, 0) + count
        # Go on only after a full pass that all went through: a failing receiver gets one.
        if delivered.get("delivered", 0) < settings.TOUCHBASE_WEBHOOKS["per_pass"]:
            break
    # Digests are due at most hourly: one look a minute is plenty.
    if every_duty or time.monotonic() - _last_digests >= DIGEST_INTERVAL_SECONDS:
        _last_digests = time.monotonic()
        counts["digests"] = send_due_digests(now)
        # Days close at most hourly per zone: a look a minute keeps the pages' live part small.
        counts["insights"] = roll_up(now)
    counts["imports"] = run_due_imports(wait=every_duty)
    return counts
