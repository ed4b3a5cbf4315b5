"""django-anymail's webhook views under /hooks/email/, and the receiver of its events.

Anymail checks the HTTP basic auth (ANYMAIL["WEBHOOK_SECRET"]) and normalises each ESP's
payload into tracking events; `on_tracking_event` hands every event to the inbound service.
Anymail answers a failed auth check with 400 (SuspiciousOperation); we answer 401 with a
Basic challenge instead, as for every other forged webhook, and log nothing noisy. A body
that is not JSON gets 400 rather than a server error.
"""

import functools
import json

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailWebhookValidationFailure
from django.http import JsonResponse
from django.urls import URLPattern

from touchbase.inbound import receipts


def _unauthorized_on_bad_auth(view):
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except AnymailWebhookValidationFailure:
            response = JsonResponse(
                {"error": {"authorization": "missing or invalid webhook credentials"}},
                status=401,
            )
            response["WWW-Authenticate"] = 'Basic realm="touchbase email webhooks"'
            return response
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            # Authenticated, but not the JSON the ESP sends: a 400 tells it not to retry.
            return JsonResponse({"error": {"body": f"is not valid JSON ({exc})"}}, status=400)

    return wrapped


def urlpatterns() -> list[URLPattern]:
    """Anymail's own URL list (every ESP: postmark/tracking/, sendgrid/tracking/, ...)."""
    return [
        URLPattern(
            pattern.pattern,
            _unauthorized_on_bad_auth(pattern.callback),
            pattern.default_args,
            pattern.name,
        )
        for pattern in anymail_urls.urlpatterns
    ]


def on_tracking_event(sender, event, esp_name, **kwargs) -> None:
    receipts.handle_email_event(event=event, esp_name=esp_name)
