"""Per-address rate limits on the public endpoints (tracked links and webhooks).

A flood from one address must not fill the database or starve the web processes. Every
web process shares the counters because they live in the database (fixed one-minute
windows in RateLimitBucket; no Redis). The middleware runs before any view, so a refused
request writes nothing but its counter, and old counters are pruned as new windows open:
the table holds at most one row per address and group for the last few minutes.
"""

import ipaddress
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse

from touchbase import clock
from touchbase.inbound.models import RateLimitBucket

WINDOW = timedelta(minutes=1)
KEEP_WINDOWS = 5

# Path prefix -> limit group. Links are clicked by people; hooks are called by providers,
# which send bursts from few addresses, hence a higher default (settings.py).
GROUPS: tuple[tuple[str, str], ...] = (
    ("/r/", "links"),
    ("/u/", "links"),
    ("/f/", "links"),
    ("/hooks/", "hooks"),
)


def group_for(path: str) -> str | None:
    return next((group for prefix, group in GROUPS if path.startswith(prefix)), None)


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


def hit(*, key: str, limit: int, now: datetime | None = None) -> bool:
    """Count one request for `key` in the current window; False once over `limit`."""
    now = now or clock.now()
    window_start = now.replace(second=0, microsecond=0)
    key = key[:100]
    with transaction.atomic():
        counted = RateLimitBucket.objects.filter(key=key, window_start=window_start).update(
            hits=F("hits") + 1
        )
        if not counted:
            RateLimitBucket.objects.filter(
                window_start__lt=window_start - KEEP_WINDOWS * WINDOW
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
    return hits <= limit


def too_many_requests(group: str) -> HttpResponse:
    retry_after = str(int(WINDOW.total_seconds()))
    if group == "hooks":
        response: HttpResponse = JsonResponse(
            {"error": {"rate_limit": "too many requests from this address; retry later"}},
            status=429,
        )
    else:
        response = HttpResponse(
            "Too many requests. Please wait a minute and try again.",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
    response["Retry-After"] = retry_after
    return response


class PublicRateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        group = group_for(request.path_info)
        if group is not None:
            limit = settings.TOUCHBASE_RATE_LIMITS[group]
            if not hit(key=f"{group}:{client_address(request)}", limit=limit):
                return too_many_requests(group)
        return self.get_response(request)
