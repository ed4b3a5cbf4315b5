"""Delivering the webhook outbox: at least once, signed to the Standard Webhooks spec.

1. Claim up to `per_pass` due messages of live endpoints with a lease (a conditional UPDATE:
   two workers never post the same claim; a worker that dies leaves a lease that expires and
   the message is posted again - at least once, with the same webhook-id).
2. Post them concurrently (bounded), each with a timeout of a few seconds, to the address
   checked against private ranges just before connecting, never following redirects.
3. Record each try; a 2xx delivers; anything else retries on RETRY_SCHEDULE (about a day),
   then fails; an endpoint whose message fails for good with no success since is disabled
   and its owners are told by email.
No database connection is used while posting, so a slow receiver holds no lock.
"""

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import Count
from standardwebhooks.webhooks import Webhook

from touchbase import clock
from touchbase.webhooks.addresses import UnsafeAddress, check_url, resolve
from touchbase.webhooks.models import (
    MessageStatus,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
)

logger = logging.getLogger(__name__)

# The Standard Webhooks suggested schedule: 8 tries over about 27 hours.
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
RESPONSE_LIMIT = 500
FIELDS = [
    "status",
    "attempts",
    "lease_owner",
    "lease_expires_at",
    "last_error",
    "delivered_at",
    "next_attempt_at",
]


@dataclass
class Outcome:
    started_at: datetime
    latency_ms: int = 0
    status_code: int | None = None
    error: str = ""
    response: str = ""

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signed_headers(message: WebhookMessage, secret: str, now: datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(msg_id=message.message_id, timestamp=now, data=message.payload)
    return {
        "webhook-id": message.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": "touchbase-webhooks/1",
    }


def post(message: WebhookMessage, timeout: float) -> Outcome:
    """One try: check the address, connect to exactly that address, post, read a little."""
    now = clock.now()
    outcome = Outcome(started_at=now)
    started = time.monotonic()
    try:
        scheme, host, port = check_url(message.endpoint.url)
        address = resolve(host, port)
        parts = urlsplit(message.endpoint.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = signed_headers(message, message.endpoint.secret, now)
        headers["host"] = parts.netloc.rsplit("@", 1)[-1]
        pool_timeout = urllib3.Timeout(total=timeout, connect=min(3.0, timeout))
        if scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address, port, timeout=pool_timeout, retries=False, maxsize=1,
                server_hostname=host, assert_hostname=host,
            )  # fmt: skip
        else:
            pool = urllib3.HTTPConnectionPool(address, port, timeout=pool_timeout, retries=False)
        with pool:
            response = pool.urlopen(
                "POST",
                path,
                body=message.payload.encode(),
                headers=headers,
                redirect=False,
                preload_content=False,
            )
            outcome.status_code = response.status
            outcome.response = response.read(RESPONSE_LIMIT).decode("utf-8", "replace")
            response.release_conn()
        if not outcome.delivered:
            outcome.error = f"the endpoint answered HTTP {response.status}"
    except UnsafeAddress as exc:
        outcome.error = f"refused: {exc}"
    except urllib3.exceptions.TimeoutError:
        outcome.error = f"no answer within {timeout:g} s"
    except urllib3.exceptions.HTTPError as exc:
        outcome.error = f"could not connect: {type(exc).__name__}"
    except Exception as exc:  # a bug must cost one try, never the worker
        logger.exception("webhook message %s", message.pk)
        outcome.error = f"unexpected error: {type(exc).__name__}"
    outcome.latency_ms = int((time.monotonic() - started) * 1000)
    return outcome


def claim(*, now: datetime, limit: int, lease: timedelta) -> list[WebhookMessage]:
    due = list(
        WebhookMessage.objects.filter(
            status=MessageStatus.PENDING,
            next_attempt_at__lte=now,
            endpoint__disabled_at__isnull=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not due:
        return []
    owner = uuid.uuid4().hex
    # Conditional: a row another worker claimed meanwhile is no longer pending.
    WebhookMessage.objects.filter(pk__in=due, status=MessageStatus.PENDING).update(
        status=MessageStatus.SENDING, lease_owner=owner, lease_expires_at=now + lease
    )
    return list(
        WebhookMessage.objects.select_related("endpoint").filter(
            pk__in=due, status=MessageStatus.SENDING, lease_owner=owner
        )
    )


def reap_expired(*, now: datetime) -> int:
    """A worker died while posting: post again (at least once)."""
    return WebhookMessage.objects.filter(
        status=MessageStatus.SENDING, lease_expires_at__lt=now
    ).update(status=MessageStatus.PENDING, lease_owner="", lease_expires_at=None)


def deliver_due(*, now: datetime | None = None) -> dict[str, int]:
    """One pass: claim, post, record. Returns counts by outcome."""
    options = settings.TOUCHBASE_WEBHOOKS
    now = now or clock.now()
    timeout = options["timeout_seconds"]
    reap_expired(now=now)
    # The lease outlasts the pass's worst case: every round of posts timing out.
    rounds = -(-options["per_pass"] // options["concurrency"])
    lease = timedelta(seconds=rounds * (timeout + 5) + 30)
    messages = claim(now=now, limit=options["per_pass"], lease=lease)
    if not messages:
        return {}
    with ThreadPoolExecutor(max_workers=min(options["concurrency"], len(messages))) as pool:
        outcomes = list(pool.map(lambda message: post(message, timeout), messages))
    return record(messages, outcomes)


def record(messages: list[WebhookMessage], outcomes: list[Outcome]) -> dict[str, int]:
    from touchbase.webhooks.services import disable_endpoint

    now = clock.now()
    counts: dict[str, int] = {}
    given_up = []
    with transaction.atomic():
        # Still ours: not deleted with its endpoint, not reclaimed after a lapsed lease.
        ours = set(
            WebhookMessage.objects.select_for_update()
            .filter(
                pk__in=[m.pk for m in messages],
                status=MessageStatus.SENDING,
                lease_owner=messages[0].lease_owner,
            )
            .values_list("pk", flat=True)
        )
        pairs = [(m, o) for m, o in zip(messages, outcomes, strict=True) if m.pk in ours]
        messages = [m for m, _ in pairs]
        tried = dict(
            WebhookAttempt.objects.filter(message__in=messages)
            .values("message_id")
            .annotate(n=Count("pk"))
            .values_list("message_id", "n")
        )
        attempts = []
        for message, outcome in pairs:
            message.attempts += 1
            message.lease_owner, message.lease_expires_at = "", None
            attempts.append(
                WebhookAttempt(
                    message=message,
                    number=tried.get(message.pk, 0) + 1,
                    started_at=outcome.started_at,
                    latency_ms=outcome.latency_ms,
                    status_code=outcome.status_code,
                    error=outcome.error[:300],
                    response=outcome.response[:RESPONSE_LIMIT],
                )
            )
            if outcome.delivered:
                message.status, message.delivered_at = MessageStatus.DELIVERED, now
                message.last_error = ""
            elif message.attempts >= MAX_ATTEMPTS:
                message.status, message.last_error = MessageStatus.FAILED, outcome.error
                given_up.append(message)
            else:
                message.status, message.last_error = MessageStatus.PENDING, outcome.error
                message.next_attempt_at = now + RETRY_SCHEDULE[message.attempts - 1]
            counts[message.status] = counts.get(message.status, 0) + 1
        WebhookMessage.objects.bulk_update(messages, FIELDS)
        WebhookAttempt.objects.bulk_create(attempts)
        succeeded = {message.endpoint_id for message, outcome in pairs if outcome.delivered}
        WebhookEndpoint.objects.filter(pk__in=succeeded).update(last_success_at=now)
    for message in given_up:
        endpoint = message.endpoint
        endpoint.refresh_from_db(fields=["last_success_at"])  # this pass may have succeeded
        if endpoint.last_success_at is None or endpoint.last_success_at < message.created_at:
            disable_endpoint(
                endpoint=endpoint,
                reason=f"every try of a message failed for about a day ({message.last_error})",
            )
    return counts
