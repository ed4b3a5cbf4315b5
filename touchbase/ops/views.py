"""Operators' endpoints: /healthz and /metrics. Neither needs a login; /metrics needs the
bearer token when one is set, else it answers only to this machine."""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from touchbase import clock
from touchbase.ops.health import system_health
from touchbase.ops.metrics import registry
from touchbase.ratelimit import client_address


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    scope = request.GET.get("scope", "system")
    if scope not in ("system", "web"):
        return JsonResponse({"error": {"scope": "expected 'system' or 'web'"}}, status=400)
    health = system_health(now=clock.now(), scope=scope)
    body = {"status": "ok" if health.ok else "failing", **health.checks}
    if health.problems:
        body["problems"] = health.problems
    return JsonResponse(body, status=200 if health.ok else 503)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.TOUCHBASE_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            response = HttpResponse("A valid bearer token is required.\n", status=401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not from_this_machine(request):
        return HttpResponse(
            "Set TOUCHBASE_METRICS_TOKEN to scrape /metrics from another machine.\n", status=403
        )
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def from_this_machine(request: HttpRequest) -> bool:
    address = request.META.get("REMOTE_ADDR", "")
    if settings.TOUCHBASE_TRUSTED_PROXY_HOPS:
        address = client_address(request)
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
