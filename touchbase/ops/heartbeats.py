"""Worker heartbeats: the worker loop calls `record_heartbeat` once per turn.

A write costs one small upsert; a worker writes at most every HEARTBEAT_EVERY, however fast
its loop turns, and prunes the rows of workers gone for a day.
"""

from datetime import datetime, timedelta

from django.db import DatabaseError

from touchbase.ops.models import WorkerHeartbeat

HEARTBEAT_EVERY = timedelta(seconds=5)
FORGET_AFTER = timedelta(days=1)

_last_written: dict[str, datetime] = {}


def record_heartbeat(*, owner: str, now: datetime) -> bool:
    """Say `owner` is alive at `now`; returns whether a row was written. Never raises for a
    database error: a missed heartbeat must not stop the worker (it shows as silence)."""
    last = _last_written.get(owner)
    if last is not None and now - last < HEARTBEAT_EVERY:
        return False
    try:
        updated = WorkerHeartbeat.objects.filter(owner=owner).update(seen_at=now)
        if not updated:
            WorkerHeartbeat.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()
            WorkerHeartbeat.objects.create(owner=owner, started_at=now, seen_at=now)
    except DatabaseError:
        return False
    _last_written[owner] = now
    return True
