"""Managing webhook endpoints: every write the settings page and the API make."""

import base64
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction

from touchbase import clock
from touchbase.tenancy.models import Business, Membership
from touchbase.webhooks.addresses import UnsafeAddress, check_endpoint_url
from touchbase.webhooks.models import EVENT_TYPES, MessageStatus, WebhookEndpoint, WebhookMessage

logger = logging.getLogger(__name__)

MAX_ENDPOINTS_PER_BUSINESS = 10


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@dataclass(frozen=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once, to whoever created the endpoint


def _clean_events(events) -> list[str]:
    if events is None:
        return []
    if not isinstance(events, list | tuple) or not all(isinstance(e, str) for e in events):
        raise ValidationError({"events": "must be a list of event types"})
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ValidationError(
            {"events": f"unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}"}
        )
    return [event for event in EVENT_TYPES if event in events]


def create_endpoint(
    *, business: Business, url: str, events=None, description: str = ""
) -> CreatedEndpoint:
    """Register an endpoint (its URL must resolve to a public address); empty events: all."""
    events = _clean_events(events)
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": "is required"})
    if len(url) > 2000:
        raise ValidationError({"url": "is longer than 2000 characters"})
    try:
        url = check_endpoint_url(url)
    except UnsafeAddress as exc:
        raise ValidationError({"url": str(exc)}) from exc
    if business.webhook_endpoints.count() >= MAX_ENDPOINTS_PER_BUSINESS:
        raise ValidationError(
            {"url": f"a business can have at most {MAX_ENDPOINTS_PER_BUSINESS} endpoints"}
        )
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(
        business=business,
        url=url,
        events=events,
        secret=secret,
        description=(description or "").strip()[:200],
        created_at=clock.now(),
    )
    return CreatedEndpoint(endpoint, secret)


def delete_endpoint(*, endpoint: WebhookEndpoint) -> None:
    """Stop sending to it at once; its undelivered messages and log go with it."""
    endpoint.delete()


def enable_endpoint(*, endpoint: WebhookEndpoint) -> None:
    """Turn a disabled endpoint back on; its waiting messages are tried again now."""
    now = clock.now()
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(disabled_at=None, disabled_reason="")
        endpoint.messages.filter(status=MessageStatus.PENDING).update(next_attempt_at=now)
    endpoint.refresh_from_db()


def disable_endpoint(*, endpoint: WebhookEndpoint, reason: str) -> bool:
    """Stop trying an endpoint that keeps failing, and tell the business's owners once."""
    changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, disabled_at__isnull=True).update(
        disabled_at=clock.now(), disabled_reason=reason[:1000]
    )
    if changed:
        _tell_owners(endpoint, reason)
    return bool(changed)


def _tell_owners(endpoint: WebhookEndpoint, reason: str) -> None:
    owners = list(
        Membership.objects.filter(
            business_id=endpoint.business_id, role=Membership.Role.OWNER
        ).values_list("user__email", flat=True)
    )
    if not owners:
        return
    link = f"{settings.PUBLIC_BASE_URL}/settings/webhooks/{endpoint.pk}/"
    try:
        send_mail(
            subject="touchbase: a webhook endpoint was turned off",
            message=(
                f"We stopped sending events to {endpoint.url} because {reason}.\n\n"
                f"Nothing is lost: new events wait for it. Fix the receiver, then turn the "
                f"endpoint back on and replay what it missed:\n{link}\n"
            ),
            from_email=None,
            recipient_list=owners,
        )
    except Exception:  # the endpoint stays off and the page says why; mail is a courtesy
        logger.exception("could not tell the owners that endpoint %s was disabled", endpoint.pk)


def replay_message(*, message: WebhookMessage) -> None:
    """Send a message again, with the same webhook-id (receivers that deduplicate skip it)."""
    WebhookMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.PENDING,
        attempts=0,
        next_attempt_at=clock.now(),
        lease_owner="",
        lease_expires_at=None,
    )
    message.refresh_from_db()
