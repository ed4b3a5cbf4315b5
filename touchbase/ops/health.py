"""/healthz: can touchbase do its job right now? The database answers, a worker reported
recently, and due touches are not piling up. Each check says why it failed."""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, connection

from touchbase.ops.metrics import last_heartbeats, oldest_due


@dataclass
class Health:
    checks: dict[str, dict] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def system_health(*, now: datetime, scope: str = "system") -> Health:
    """`scope="web"` checks only this process and its database: what a load balancer needs
    (a silent worker is no reason to stop sending the owners' pages to this process)."""
    health = Health()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        health.checks["database"] = {"ok": False, "vendor": connection.vendor}
        health.problems.append(f"database: {type(error).__name__}")
        return health
    health.checks["database"] = {"ok": True, "vendor": connection.vendor}
    if scope == "web":
        return health
    limits = settings.TOUCHBASE_HEALTH
    seen = last_heartbeats()
    latest = max(seen.values(), default=None)
    silence = (now - latest).total_seconds() if latest else None
    worker_ok = silence is not None and silence <= limits["worker_silence_seconds"]
    health.checks["worker"] = {
        "ok": worker_ok,
        "last_heartbeat_seconds_ago": None if silence is None else round(max(0.0, silence), 1),
        "limit_seconds": limits["worker_silence_seconds"],
    }
    if not worker_ok:
        health.problems.append(
            "worker: no worker has ever reported"
            if silence is None
            else f"worker: silent for {silence:.0f}s (limit {limits['worker_silence_seconds']}s)"
        )
    due, oldest = oldest_due(now)
    age = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    backlog_ok = not limits["backlog_age_seconds"] or age <= limits["backlog_age_seconds"]
    health.checks["backlog"] = {
        "ok": backlog_ok,
        "due": due,
        "oldest_due_seconds": round(age, 1),
        "limit_seconds": limits["backlog_age_seconds"],
    }
    if not backlog_ok:
        health.problems.append(
            f"backlog: the oldest due touch has waited {age:.0f}s "
            f"(limit {limits['backlog_age_seconds']}s)"
        )
    return health
