"""The delivery engine: one batch of due touches from claim to outcome.

1. Claim up to `batch_size` due deliveries with a lease (claiming.py).
2. Decide, in one transaction, what each one gets, in PRODUCT §3 order: enrollment no longer
   active -> cancelled; a business whose owner has not confirmed their email -> deferred;
   no address / no consent / opted out -> skipped (the sequence goes on);
   outside the recipient's send window -> deferred into the next window; over a recipient
   cap or the business's throttle -> deferred; otherwise rendered and marked `sending` with
   the exact message stored, before any provider is called.
3. Send the batch concurrently (bounded), each call recorded with its answer and latency.
4. Record every outcome in one transaction: sent -> next touch scheduled (or enrollment
   completed); transient error -> retried after 1, 5, 15 minutes, then failed; permanent
   error -> failed and the customer updated; unknown outcome -> `uncertain`, never re-sent
   automatically (unless the provider honours our idempotency key).

Guarantee: at most once per touch. A worker that dies after step 2 leaves `sending` rows
that the reaper turns `uncertain`; one that dies before leaves `claimed` rows that the reaper
returns to `pending` (no provider was called for them).
"""

import hashlib
import logging
import os
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction

from touchbase import clock
from touchbase.campaigns.models import EnrollmentStatus
from touchbase.channels import Channel
from touchbase.customers.models import SmsSuppression
from touchbase.customers.reachability import channel_block
from touchbase.delivery.backends import transport_for
from touchbase.delivery.backends.base import OutgoingMessage, SendError, Sent, Transport
from touchbase.delivery.bulk_write import update_rows
from touchbase.delivery.claiming import claim_due
from touchbase.delivery.models import Delivery, DeliveryAttempt, DeliveryStatus
from touchbase.delivery.pacing import THROTTLE_DEFER_REASON, RecentSends, Throttle
from touchbase.delivery.provider_errors import ProviderError, apply_to_customer
from touchbase.delivery.rendering import render_delivery
from touchbase.delivery.segments import count_segments
from touchbase.delivery.send_window import load_rules, window_for
from touchbase.delivery.sequencing import TouchMap, advance, load_touches
from touchbase.tenancy.models import Membership
from touchbase.webhooks.events import emit_delivery_events

logger = logging.getLogger(__name__)

UNVERIFIED_RECHECK = timedelta(minutes=15)
RETRY_BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))
MAX_ATTEMPTS = len(RETRY_BACKOFF) + 1
RESPONSE_LIMIT = 2000

DECIDED_FIELDS = [
    "status",
    "channel",
    "send_after",
    "defer_reason",
    "skip_reason",
    "to_address",
    "subject",
    "body_text",
    "body_html",
    "lease_owner",
    "lease_expires_at",
    "error_code",
    "error_message",
    "updated_at",
]
OUTCOME_FIELDS = [
    "status",
    "send_after",
    "defer_reason",
    "attempts",
    "lease_owner",
    "lease_expires_at",
    "provider",
    "provider_message_id",
    "error_code",
    "error_message",
    "sent_at",
    "updated_at",
]


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10000}"


def spread_offset(delivery_id: int, spread: timedelta) -> timedelta:
    """A stable pseudo-random offset into the first minutes of a window, so touches deferred
    overnight reopen spread out rather than all at 09:00:00."""
    if spread <= timedelta(0):
        return timedelta(0)
    digest = hashlib.blake2b(str(delivery_id).encode(), digest_size=8).digest()
    return timedelta(seconds=int.from_bytes(digest, "big") % int(spread.total_seconds()))


@dataclass
class OutgoingSend:
    delivery: Delivery
    message: OutgoingMessage
    transport: Transport
    result: Sent | SendError | None = None
    started_at: datetime | None = None
    latency_ms: int = 0


@dataclass
class BatchOutcome:
    claimed: int = 0
    counts: Counter = field(default_factory=Counter)


class DeliveryEngine:
    def __init__(
        self,
        *,
        batch_size: int = 200,
        concurrency: int = 8,
        lease_seconds: int = 300,
        window_spread_minutes: int = 30,
        owner: str | None = None,
        transports: dict[str, Transport] | None = None,
        stop_event: threading.Event | None = None,
    ):
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.lease = timedelta(seconds=lease_seconds)
        self.spread = timedelta(minutes=window_spread_minutes)
        self.owner = owner or default_owner()
        self.transports = transports or {}
        self.stop_event = stop_event or threading.Event()

    def transport(self, channel: str) -> Transport:
        if channel not in self.transports:
            self.transports[channel] = transport_for(channel)
        return self.transports[channel]

    # --- one batch -----------------------------------------------------------------------

    def run_batch(self) -> BatchOutcome:
        now = clock.now()
        ids = claim_due(
            owner=self.owner,
            limit=self.batch_size,
            lease_seconds=int(self.lease.total_seconds()),
            now=now,
        )
        outcome = BatchOutcome(claimed=len(ids))
        if not ids:
            return outcome
        sends, touches = self._decide(ids, now, outcome.counts)
        if sends:
            self._send(sends)
            self._record(sends, touches, outcome.counts)
        logger.info("batch of %d: %s", len(ids), dict(outcome.counts))
        return outcome

    # --- step 2: decide ------------------------------------------------------------------

    def _decide(
        self, ids: list[int], now: datetime, counts: Counter
    ) -> tuple[list[OutgoingSend], TouchMap]:
        with transaction.atomic():
            deliveries = list(
                Delivery.objects.select_for_update(of=("self", "enrollment"))
                .select_related("business", "enrollment", "enrollment__customer", "enrollment__job")
                .filter(pk__in=ids, status=DeliveryStatus.CLAIMED, lease_owner=self.owner)
                .order_by("send_after", "id")
            )
            if not deliveries:
                return [], {}
            context = BatchContext.load(deliveries, now)
            throttle = Throttle(
                {d.business_id: d.business for d in deliveries},
                {
                    (d.business_id, touch.channel)
                    for d in deliveries
                    if (touch := context.touch_of(d)) is not None
                },
                now,
            )
            sends: list[OutgoingSend] = []
            resolved: list[Delivery] = []
            for delivery in deliveries:
                verdict = self._verdict(delivery, context, throttle, now)
                counts[verdict] += 1
                delivery.updated_at = now
                if verdict == "sending":
                    sends.append(context.pending_send)
                elif verdict in ("skipped", "failed") or (
                    verdict == "cancelled" and delivery.skip_reason == "touch_removed"
                ):
                    resolved.append(delivery)
            update_rows(deliveries, DECIDED_FIELDS)
            emit_delivery_events(resolved)
            throttle.save()
            advance(resolved, context.touches, now)
        return sends, context.touches

    def _verdict(
        self, delivery: Delivery, context: "BatchContext", throttle: Throttle, now: datetime
    ) -> str:
        """Set the delivery's new state in memory; return its name."""
        enrollment = delivery.enrollment
        customer = enrollment.customer
        release = {"lease_owner": "", "lease_expires_at": None}
        if enrollment.status == EnrollmentStatus.FROZEN:
            return self._set(delivery, status=DeliveryStatus.HELD, **release)
        if enrollment.status != EnrollmentStatus.ACTIVE or customer is None:
            return self._set(
                delivery,
                status=DeliveryStatus.CANCELLED,
                skip_reason=f"enrollment_{enrollment.status}",
                **release,
            )
        touch = context.touch_of(delivery)
        if touch is None:  # the owner shortened the campaign past this touch
            return self._set(
                delivery, status=DeliveryStatus.CANCELLED, skip_reason="touch_removed", **release
            )
        delivery.channel = touch.channel
        if delivery.business_id in context.unverified_businesses:
            # An open install's new owner has not confirmed their email: nothing leaves yet.
            return self._defer(delivery, now + UNVERIFIED_RECHECK, "owner_unverified")
        address = customer.email if touch.channel == Channel.EMAIL else customer.phone
        block = channel_block(
            customer,
            touch.channel,
            suppressed=(delivery.business_id, customer.phone) in context.suppressed,
        )
        if block:
            return self._set(delivery, status=DeliveryStatus.SKIPPED, skip_reason=block, **release)

        window = window_for(customer, delivery.business, context.rules)
        if not window.allows(now):
            opening = window.next_opening(now)
            start = opening + spread_offset(delivery.pk, self.spread)
            return self._defer(delivery, start if window.allows(start) else opening, "send_window")
        wait = context.recent.wait_until(touch.channel, address, now)
        if wait is not None:
            return self._defer(delivery, window.next_opening(wait), "frequency_cap")
        slot = throttle.admit(delivery, now)
        if slot is not None:
            return self._defer(delivery, slot, THROTTLE_DEFER_REASON)

        message = render_delivery(
            delivery,
            touch.template,
            first_sms_of_enrollment=delivery.enrollment_id not in context.texted_enrollments,
        )
        if message.channel == Channel.SMS and count_segments(message.text).too_long:
            return self._set(
                delivery,
                status=DeliveryStatus.FAILED,
                error_code="too_long",
                error_message="the rendered SMS is longer than 10 segments",
                **release,
            )
        context.recent.record(touch.channel, address, now)
        context.pending_send = OutgoingSend(delivery, message, self.transport(touch.channel))
        return self._set(
            delivery,
            status=DeliveryStatus.SENDING,
            to_address=message.to,
            subject=message.subject,
            body_text=message.text,
            body_html=message.html,
            lease_expires_at=now + self.lease,
            defer_reason="",
        )

    @staticmethod
    def _set(delivery: Delivery, **fields) -> str:
        for name, value in fields.items():
            setattr(delivery, name, value)
        return str(fields["status"].value)

    def _defer(self, delivery: Delivery, until: datetime, reason: str) -> str:
        self._set(
            delivery,
            status=DeliveryStatus.PENDING,
            send_after=until,
            defer_reason=reason,
            lease_owner="",
            lease_expires_at=None,
        )
        return f"deferred_{reason}"

    # --- step 3: send --------------------------------------------------------------------

    def _send(self, sends: list[OutgoingSend]) -> None:
        def call(send: OutgoingSend) -> None:
            if self.stop_event.is_set():
                return  # not started: released below, no provider call was made
            send.started_at = clock.now()
            started = time.monotonic()
            try:
                send.result = send.transport.send(
                    send.message, idempotency_key=str(send.delivery.pk)
                )
            except SendError as exc:
                send.result = exc
            except Exception as exc:  # a bug or an unexpected library error mid-call
                logger.exception(
                    "transport %s failed on delivery %s", send.transport.name, send.delivery.pk
                )
                send.result = SendError(
                    f"{type(exc).__name__}: {exc}", unknown_outcome=True, code="unexpected"
                )
            send.latency_ms = int((time.monotonic() - started) * 1000)

        if len(sends) == 1 or self.concurrency == 1:
            for send in sends:
                call(send)
            return
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(sends))) as pool:
            list(pool.map(call, sends))

    # --- step 4: record ------------------------------------------------------------------

    def _record(self, sends: list[OutgoingSend], touches: TouchMap, counts: Counter) -> None:
        now = clock.now()
        with transaction.atomic():
            # Rows still ours, or turned uncertain by a reaper while we waited on the
            # provider: what we now know is better than "uncertain".
            current = dict(
                Delivery.objects.select_for_update()
                .filter(pk__in=[s.delivery.pk for s in sends], lease_owner=self.owner)
                .filter(status__in=[DeliveryStatus.SENDING, DeliveryStatus.UNCERTAIN])
                .values_list("pk", "attempts")
            )
            updated: list[Delivery] = []
            resolved: list[Delivery] = []
            attempts: list[DeliveryAttempt] = []
            customer_effects: list[tuple[Delivery, ProviderError]] = []
            for send in sends:
                delivery = send.delivery
                if delivery.pk not in current:
                    continue
                delivery.updated_at = now
                delivery.lease_owner, delivery.lease_expires_at = "", None
                updated.append(delivery)
                if send.result is None:  # stopped before the call
                    self._set(delivery, status=DeliveryStatus.PENDING)
                    counts["released"] += 1
                    continue
                delivery.attempts = current[delivery.pk] + 1
                delivery.provider = send.transport.name
                attempts.append(self._attempt_row(send))
                verdict = self._apply_result(delivery, send, now, customer_effects)
                counts[verdict] += 1
                if verdict in ("sent", "failed", "uncertain"):
                    resolved.append(delivery)
            update_rows(updated, OUTCOME_FIELDS)
            emit_delivery_events(resolved)
            DeliveryAttempt.objects.bulk_create(attempts)
            for delivery, error in customer_effects:
                apply_to_customer(delivery.enrollment.customer, error)
            advance(resolved, touches, now)  # the batch's touches, loaded when deciding

    def _apply_result(
        self,
        delivery: Delivery,
        send: OutgoingSend,
        now: datetime,
        customer_effects: list[tuple[Delivery, ProviderError]],
    ) -> str:
        result = send.result
        if isinstance(result, Sent):
            return self._set(
                delivery,
                status=DeliveryStatus.SENT,
                sent_at=now,
                provider_message_id=result.provider_message_id,
                error_code="",
                error_message="",
            )
        delivery.error_code, delivery.error_message = result.code[:40], str(result)[:2000]
        if result.permanent:
            if result.customer_effect:
                customer_effects.append(
                    (delivery, ProviderError(True, result.customer_effect, str(result)))
                )
            return self._set(delivery, status=DeliveryStatus.FAILED)
        if result.unknown_outcome and not send.transport.idempotent:
            return self._set(delivery, status=DeliveryStatus.UNCERTAIN, sent_at=send.started_at)
        if delivery.attempts >= MAX_ATTEMPTS:
            return self._set(delivery, status=DeliveryStatus.FAILED)
        self._set(
            delivery,
            status=DeliveryStatus.PENDING,
            defer_reason="retry",
            send_after=now + RETRY_BACKOFF[delivery.attempts - 1],
        )
        return "retry"

    @staticmethod
    def _attempt_row(send: OutgoingSend) -> DeliveryAttempt:
        result = send.result
        if isinstance(result, Sent):
            outcome, code, response = DeliveryAttempt.Outcome.SENT, "", result.response
            message_id = result.provider_message_id
        else:
            outcome = (
                DeliveryAttempt.Outcome.PERMANENT
                if result.permanent
                else DeliveryAttempt.Outcome.UNKNOWN
                if result.unknown_outcome
                else DeliveryAttempt.Outcome.TRANSIENT
            )
            code, response, message_id = result.code, result.response or str(result), ""
        return DeliveryAttempt(
            delivery_id=send.delivery.pk,
            number=send.delivery.attempts,
            provider=send.transport.name,
            outcome=outcome,
            started_at=send.started_at,
            latency_ms=send.latency_ms,
            provider_message_id=message_id,
            error_code=code[:40],
            response=response[:RESPONSE_LIMIT],
        )


def unverified_businesses(business_ids: set[int]) -> set[int]:
    """The businesses whose owners have none confirmed their email (an open install's new
    sign-ups): they send nothing yet. A business made by the operator without an owner is
    the operator's own."""
    owners = Membership.objects.filter(
        business_id__in=business_ids, role=Membership.Role.OWNER
    ).values_list("business_id", "user__email_verified_at")
    verified = {business for business, at in owners if at is not None}
    return {business for business, _ in owners} - verified


class BatchContext:
    """Everything the rules need about a batch, loaded in a handful of queries."""

    pending_send: OutgoingSend

    def __init__(self, deliveries, touches, rules, suppressed, recent, texted, unverified):
        self.unverified_businesses = unverified
        self.deliveries = deliveries
        self.touches = touches
        self.rules = rules
        self.suppressed = suppressed
        self.recent = recent
        self.texted_enrollments = texted

    @classmethod
    def load(cls, deliveries: list[Delivery], now: datetime) -> "BatchContext":
        customers = [d.enrollment.customer for d in deliveries if d.enrollment.customer]
        business_ids = {d.business_id for d in deliveries}
        phones = {c.phone for c in customers if c.phone}
        suppressed = set(
            SmsSuppression.objects.filter(
                business_id__in=business_ids, phone__in=phones
            ).values_list("business_id", "phone")
        )
        addresses = phones | {c.email for c in customers if c.email}
        texted = set(
            Delivery.objects.filter(
                enrollment_id__in={d.enrollment_id for d in deliveries},
                channel=Channel.SMS,
                status__in=[DeliveryStatus.SENT, DeliveryStatus.SENDING, DeliveryStatus.UNCERTAIN],
            ).values_list("enrollment_id", flat=True)
        )
        return cls(
            deliveries,
            load_touches(d.enrollment.campaign_id for d in deliveries),
            load_rules(),
            suppressed,
            RecentSends(business_ids, addresses, now),
            texted,
            unverified_businesses(business_ids),
        )

    def touch_of(self, delivery: Delivery):
        return self.touches.get((delivery.enrollment.campaign_id, delivery.position))
