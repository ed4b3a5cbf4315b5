"""django-anymail's webhook views under /hooks/email/, and the receiver of its events.

Anymail checks the HTTP basic auth (ANYMAIL["WEBHOOK_SECRET"]) and normalises each ESP's
payload into tracking events; `on_tracking_event` hands every event to the inbound service.
Anymail answers a failed auth check with 400 (SuspiciousOperation); we answer 401 with a
Basic challenge instead, as for every other forged webhook, and log nothing noisy. A body
that is not JSON, or not the ESP's event shape, gets 400; an ESP whose signing key this
install does not set answers 404 (anymail raises a configuration error per request).
"""

import functools
import json

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailConfigurationError, AnymailWebhookValidationFailure
from django.http import JsonResponse
from django.urls import URLPattern

from touchbase.inbound import receipts


class _ReceiverFailed(Exception):
    """Our own handling of a parsed event failed: a server error, so the ESP retries."""


def _unauthorized_on_bad_auth(view):
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except _ReceiverFailed as exc:
            raise exc.__cause__ from None
        except AnymailConfigurationError:
            # This ESP's signing key is not set: nothing listens here (no traceback, no 500).
            esp = request.path.strip("/").split("/")[2]
            return JsonResponse(
                {"error": {"esp": f"{esp} webhooks are not configured on this install"}},
                status=404,
            )
        except (KeyError, TypeError, IndexError, AttributeError) as exc:
            # Authenticated JSON, but not in this ESP's event shape.
            return JsonResponse(
                {"error": {"body": f"is not an event payload of this provider ({exc!r})"}},
                status=400,
            )
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
    try:
        receipts.handle_email_event(event=event, esp_name=esp_name)
    except Exception as exc:
        raise _ReceiverFailed from exc
