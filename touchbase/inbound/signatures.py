"""Request signatures of inbound webhooks: our job webhook's HMAC and Twilio's.

Job webhook (README, "Job webhook"): the sender computes

    signature = hex(HMAC-SHA256(key=business.webhook_secret, msg=f"{timestamp}.{raw_body}"))

and sends `X-Touchbase-Timestamp: <unix seconds>` and `X-Touchbase-Signature: sha256=<hex>`.
The timestamp is signed with the body, so an old request cannot be re-dated; it must be
within 5 minutes of our clock, and a signature is accepted once (stored as an Event), so a
captured request cannot be replayed inside the window either.
"""

import hashlib
import hmac
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest
from twilio.request_validator import RequestValidator

JOB_WEBHOOK_WINDOW = timedelta(minutes=5)
TIMESTAMP_HEADER = "X-Touchbase-Timestamp"
SIGNATURE_HEADER = "X-Touchbase-Signature"
SIGNATURE_PREFIX = "sha256="


def sign_job_webhook(*, secret: str, timestamp: str, body: bytes) -> str:
    """The X-Touchbase-Signature value for a body sent at `timestamp` (unix seconds)."""
    message = timestamp.encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def job_webhook_signature_problem(
    *, secret: str, timestamp: str, signature: str, body: bytes, now: datetime
) -> dict[str, str] | None:
    """None when the request is authentic and fresh; else {header: what is wrong}."""
    if not signature:
        return {"signature": f"missing {SIGNATURE_HEADER} header"}
    if not timestamp:
        return {"timestamp": f"missing {TIMESTAMP_HEADER} header"}
    if not timestamp.isdigit() or len(timestamp) > 12:
        return {"timestamp": f"{TIMESTAMP_HEADER} must be a unix time in whole seconds"}
    expected = sign_job_webhook(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        return {
            "signature": "does not match the body and timestamp (HMAC-SHA256 with the "
            "business's webhook secret over timestamp + '.' + body)"
        }
    sent_at = datetime.fromtimestamp(int(timestamp), tz=now.tzinfo)
    if abs(now - sent_at) > JOB_WEBHOOK_WINDOW:
        return {"timestamp": "is more than 5 minutes from our clock; sign the request again"}
    return None


def twilio_signed_urls(request: HttpRequest) -> list[str]:
    """The URLs Twilio may have signed for this request.

    Behind a TLS-terminating proxy Django sees http://internal-host/..., while Twilio signed
    the public https URL. We check first the URL built from TOUCHBASE_PUBLIC_BASE_URL, which
    is the URL we give Twilio (status callbacks) and the one an operator configures for the
    number; it needs no trust in forwarded headers. Second, the URL as Django sees it, which
    follows SECURE_PROXY_SSL_HEADER / USE_X_FORWARDED_HOST when the deployment sets them (a
    number configured with another host name). Accepting either is safe: a valid signature
    for any of them still needs the account's auth token.
    """
    public = settings.PUBLIC_BASE_URL + request.get_full_path()
    return list(dict.fromkeys([public, request.build_absolute_uri()]))


def has_valid_twilio_signature(request: HttpRequest) -> bool:
    token = settings.TOUCHBASE_TWILIO["auth_token"]
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    validator = RequestValidator(token)
    return any(
        validator.validate(url, request.POST, signature) for url in twilio_signed_urls(request)
    )
