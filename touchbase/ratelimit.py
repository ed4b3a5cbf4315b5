"""The project's one rate-limiting mechanism: fixed windows counted in the database.

Every web process shares the counters because they live in the database
(`RateLimitBucket`, one row per key and window; no Redis). Each limit belongs to a group
(`links`, `hooks`, `login-account`, `test-message`, ...) with its own window length; when a
key opens a new window, the group's windows older than a few of its lengths are pruned, so a
flood costs one counter row per key and window.
"""

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest

from touchbase import clock
from touchbase.inbound.models import RateLimitBucket

KEEP_WINDOWS = 5
WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits per `window` for each key of `group`."""

    group: str
    limit: int
    window: timedelta = WINDOW

    def _key(self, key: str) -> str:
        return f"{self.group}:{key}"[:100]

    def _window_start(self, now: datetime) -> datetime:
        seconds = int(self.window.total_seconds())
        epoch = int(now.timestamp())
        return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)

    def hit(self, key: str, *, now: datetime | None = None) -> bool:
        """Count one hit for `key` in the current window; False once over the limit."""
        now = now or clock.now()
        window_start = self._window_start(now)
        key = self._key(key)
        with transaction.atomic():
            counted = RateLimitBucket.objects.filter(key=key, window_start=window_start).update(
                hits=F("hits") + 1
            )
            if not counted:
                RateLimitBucket.objects.filter(
                    key__startswith=f"{self.group}:",
                    window_start__lt=window_start - KEEP_WINDOWS * self.window,
                ).delete()
                try:
                    with transaction.atomic():
                        RateLimitBucket.objects.create(key=key, window_start=window_start, hits=1)
                except IntegrityError:  # another process opened the window first
                    RateLimitBucket.objects.filter(key=key, window_start=window_start).update(
                        hits=F("hits") + 1
                    )
            hits = RateLimitBucket.objects.values_list("hits", flat=True).get(
                key=key, window_start=window_start
            )
        return hits <= self.limit

    def used(self, key: str, *, now: datetime | None = None) -> int:
        """Hits counted for `key` in the current window (counting nothing)."""
        start = self._window_start(now or clock.now())
        hits = RateLimitBucket.objects.filter(key=self._key(key), window_start=start)
        return hits.values_list("hits", flat=True).first() or 0

    def exhausted(self, key: str, *, now: datetime | None = None) -> bool:
        return self.used(key, now=now) >= self.limit

    def reset(self, key: str) -> None:
        RateLimitBucket.objects.filter(key=self._key(key)).delete()

    def minutes_left(self, now: datetime | None = None) -> int:
        now = now or clock.now()
        left = self._window_start(now) + self.window - now
        return max(1, int(left.total_seconds() + 59) // 60)


def hit(*, key: str, limit: int, now: datetime | None = None) -> bool:
    """One hit for `key` ("<group>:<who>") against `limit` per minute."""
    group, _, who = key.partition(":")
    return Limit(group=group, limit=limit).hit(who, now=now)


def client_address(request: HttpRequest) -> str:
    """The caller's address. Behind N trusted proxies (TOUCHBASE_TRUSTED_PROXY_HOPS) it is the
    N-th address from the right of X-Forwarded-For: the entries left of it are whatever the
    client chose to send. An IPv6 client is one /64 network (one subscriber's allocation)."""
    address = request.META.get("REMOTE_ADDR", "")
    hops = settings.TOUCHBASE_TRUSTED_PROXY_HOPS
    if hops:
        forwarded = [
            item.strip()
            for item in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if item.strip()
        ]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:45] or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
