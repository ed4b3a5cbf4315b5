"""Per-address rate limits on the public endpoints (tracked links and webhooks).

A flood from one address must not fill the database or starve the web processes. The
counters are the project's one mechanism (touchbase/ratelimit.py: one-minute windows in the
database). The middleware runs before any view, so a refused request writes nothing but its
counter.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from touchbase.ratelimit import WINDOW, client_address, hit

__all__ = ["PublicRateLimitMiddleware", "client_address", "hit"]

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
