"""Per-key rate limiting without Redis: a token bucket per API key, in process memory.

Each key may make `rate` requests per `period` seconds, in bursts up to `rate`. The buckets
live in this process and a lock guards them, so the limit is exact for one process (threads
included). With N web processes behind a balancer each keeps its own buckets: a key gets at
most N x the limit. That is the documented trade-off for needing no extra service; a shared
limit would cost a database write per request.
"""

import math
import threading
from dataclasses import dataclass

from touchbase import clock


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    def __init__(self) -> None:
        self._buckets: dict[object, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: object, *, rate: int, period: float) -> int:
        """Take one token for `key`. Returns 0 when allowed, else whole seconds to wait."""
        now = clock.now().timestamp()
        per_second = rate / period
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(tokens=float(rate), updated=now)
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(rate), bucket.tokens + elapsed * per_second)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0
            return max(1, math.ceil((1 - bucket.tokens) / per_second))

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


buckets = TokenBuckets()
