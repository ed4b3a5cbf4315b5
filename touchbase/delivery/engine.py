"""The delivery engine: one batch of due touches from claim to outcome.

1. Claim up to `batch_size` due deliveries with a lease (claiming.py).
2. Decide, in one transaction, what each one gets, in PRODUCT §3 order: enrollment no longer
   active -> cancelled; a business whose owner has not confirmed their email -> deferred;
   no address / no consent / opted out -> skipped (the sequence goes on); outside the
   recipient's send window -> deferred into the next window, or skipped (`no_legal_window`)
   when the rules leave none; over a recipient cap or the business's throttle -> deferred;
   otherwise rendered and marked `sending` with the exact message stored, before any
   provider is called. An exception while deciding one delivery fails that delivery alone
   (`internal_error`, with the exception's class and message).
3. Send the batch concurrently (bounded), each call recorded with its answer and latency.
4. Record outcomes as the answers arrive, in small transactions (every RECORD_EVERY answers
   or RECORD_INTERVAL seconds), retried through a lost database connection: sent -> next
   touch scheduled (or enrollment completed); transient error -> retried after 1, 5, 15
   minutes, then failed; permanent error -> failed and the customer updated; unknown
   outcome -> `uncertain`, never re-sent automatically (unless the provider honours our
   idempotency key).

Guarantee: at most once per touch. A worker that dies after step 2 leaves `sending` only the
rows whose answers it had not yet recorded (the calls in flight, and at most RECORD_INTERVAL
of answers); the reaper turns them `uncertain`. One that dies before leaves `claimed` rows
that the reaper returns to `pending` (no provider was called for them).
"""

import hashlib
import logging
import os
import socket
import threading
import time
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction

from touchbase import clock
from touchbase.campaigns.models import EnrollmentStatus
from touchbase.channels import Channel
from touchbase.customers.models import SmsSuppression
from touchbase.customers.reachability import channel_block
from touchbase.delivery.backends import transport_for
from touchbase.delivery.backends.base import OutgoingMessage, SendError, Sent, Transport
from touchbase.delivery.bulk_write import update_rows
from touchbase.delivery.claiming import claim_due, release_claimed
from touchbase.delivery.models import Delivery, DeliveryAttempt, DeliveryStatus
from touchbase.delivery.pacing import THROTTLE_DEFER_REASON, RecentSends, Throttle
from touchbase.delivery.provider_errors import ProviderError, apply_to_customer
from touchbase.delivery.rendering import render_delivery
from touchbase.delivery.resilience import CONNECTION_ERRORS, retry_database
from touchbase.delivery.segments import MAX_SEGMENTS, count_segments
from touchbase.delivery.send_window import NO_LEGAL_WINDOW, load_rules, window_for
from touchbase.delivery.sequencing import TouchMap, advance, load_touches
from touchbase.tenancy.models import Membership

logger = logging.getLogger(__name__)

UNVERIFIED_RECHECK = timedelta(minutes=15)
RETRY_BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))
MAX_ATTEMPTS = len(RETRY_BACKOFF) + 1
RESPONSE_LIMIT = 2000
# Step 4 commits the answers received so far this often: a dead worker loses at most this
# much of what providers told it, and a batch still costs only a few transactions.
RECORD_EVERY = 25
RECORD_INTERVAL = 0.25  # seconds
INTERNAL_ERROR = "internal_error"

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
    "sent_at",
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
        batch_size: int | None = None,
        concurrency: int | None = None,
        lease_seconds: int | None = None,
        window_spread_minutes: int | None = None,
        owner: str | None = None,
        transports: dict[str, Transport] | None = None,
        stop_event: threading.Event | None = None,
    ):
        options = settings.TOUCHBASE_WORKER  # one set of defaults: the settings'
        self.batch_size = batch_size or options["batch_size"]
        self.concurrency = concurrency or options["concurrency"]
        self.lease = timedelta(seconds=lease_seconds or options["lease_seconds"])
        spread = options["window_spread_minutes"]
        self.spread = timedelta(
            minutes=spread if window_spread_minutes is None else window_spread_minutes
        )
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
        try:
            sends, touches = self._decide(ids, now, outcome.counts)
        except Exception:
            # Nothing was decided and no provider called: give the rows back now rather
            # than when the lease runs out.
            retry_database(
                lambda: release_claimed(owner=self.owner, ids=ids, now=clock.now()),
                what="releasing an undecided batch",
            )
            raise
        if sends:
            self._send_and_record(sends, touches, outcome.counts)
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
                try:
                    verdict = self._verdict(delivery, context, throttle, now)
                except DatabaseError:
                    raise  # the transaction is lost for the whole batch: released above
                except Exception as exc:  # a bug or a poison row: this delivery alone fails
                    verdict = self._fail_internal(delivery, exc)
                counts[verdict] += 1
                delivery.updated_at = now
                if verdict == "sending":
                    sends.append(context.pending_send)
                elif verdict in ("skipped", "failed", INTERNAL_ERROR) or (
                    verdict == "cancelled" and delivery.skip_reason == "touch_removed"
                ):
                    resolved.append(delivery)
            update_rows(deliveries, DECIDED_FIELDS)
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
        opening = window.next_opening(now)
        if opening is None:  # the owner's window and the recipient's state law never meet
            return self._set(
                delivery, status=DeliveryStatus.SKIPPED, skip_reason=NO_LEGAL_WINDOW, **release
            )
        if opening != now:
            start = opening + spread_offset(delivery.pk, self.spread)
            return self._defer(delivery, start if window.allows(start) else opening, "send_window")
        wait = context.recent.wait_until(touch.channel, address, now)
        if wait is not None:
            reopening = window.next_opening(wait)
            if reopening is None:
                return self._set(
                    delivery, status=DeliveryStatus.SKIPPED, skip_reason=NO_LEGAL_WINDOW, **release
                )
            return self._defer(delivery, reopening, "frequency_cap")
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
                error_message=f"the rendered SMS is longer than {MAX_SEGMENTS} segments",
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
            sent_at=None,  # set when its call starts (step 3)
        )

    def _fail_internal(self, delivery: Delivery, exc: Exception) -> str:
        logger.exception("delivery %s failed inside touchbase", delivery.pk)
        self._set(
            delivery,
            status=DeliveryStatus.FAILED,
            error_code=INTERNAL_ERROR,
            error_message=f"{type(exc).__name__}: {exc}"[:RESPONSE_LIMIT],
            lease_owner="",
            lease_expires_at=None,
        )
        return INTERNAL_ERROR

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

    # --- steps 3 and 4: send, and record the answers as they arrive ---------------------

    def _send_and_record(self, sends: list[OutgoingSend], touches: TouchMap, counts: Counter):
        """Start calls only as threads free up, each committed as started (`sent_at`) just
        before it is made, and record answers as they arrive: a worker that dies leaves
        `uncertain` only the calls in flight and the answers of the last RECORD_INTERVAL;
        the reaper returns the rows it had decided but not yet called to `pending`."""
        waiting = deque(sends)
        answered: list[OutgoingSend] = []
        last_recorded = time.monotonic()
        if self.concurrency == 1 or len(sends) == 1:  # inline: one transaction per chunk
            while waiting and not self.stop_event.is_set():
                chunk = [waiting.popleft() for _ in range(min(RECORD_EVERY, len(waiting)))]
                started = self._settle(answered, chunk, touches, counts)
                answered = []
                for send in started:
                    self._call(send)
                    answered.append(send)
        else:
            refill = max(1, self.concurrency // 2)
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(sends))) as pool:
                in_flight: dict = {}
                while waiting or in_flight:
                    room = self.concurrency - len(in_flight)
                    start = bool(waiting) and not self.stop_event.is_set()
                    start = start and (room >= refill or not in_flight)
                    record = len(answered) >= RECORD_EVERY
                    record = record or time.monotonic() - last_recorded >= RECORD_INTERVAL
                    if start or (answered and record):
                        size = min(room, len(waiting)) if start else 0
                        chunk = [waiting.popleft() for _ in range(size)]
                        for send in self._settle(answered, chunk, touches, counts):
                            in_flight[pool.submit(self._call, send)] = send
                        answered, last_recorded = [], time.monotonic()
                    if not in_flight:
                        if self.stop_event.is_set():
                            break
                        continue
                    done, _ = wait(in_flight, timeout=RECORD_INTERVAL, return_when=FIRST_COMPLETED)
                    answered.extend(in_flight.pop(future) for future in done)
        self._settle(answered, [], touches, counts)
        if waiting:  # stopping: never called, give them back at once
            self._release_uncalled([send.delivery.pk for send in waiting], counts)

    def _call(self, send: OutgoingSend) -> None:
        """One provider call; never raises (runs in a pool thread)."""
        if self.stop_event.is_set():
            return  # not started: released when recorded, no provider call was made
        send.started_at = clock.now()
        started = time.monotonic()
        try:
            send.result = send.transport.send(send.message, idempotency_key=str(send.delivery.pk))
        except SendError as exc:
            send.result = exc
        except Exception as exc:  # a bug or an unexpected library error mid-call
            logger.exception(
                "transport %s failed on delivery %s", send.transport.name, send.delivery.pk
            )
            # The request may have left: at most once means `uncertain`, never a retry.
            send.result = SendError(
                f"{type(exc).__name__}: {exc}", unknown_outcome=True, code=INTERNAL_ERROR
            )
        send.latency_ms = int((time.monotonic() - started) * 1000)

    def _settle(
        self,
        answered: list[OutgoingSend],
        to_start: list[OutgoingSend],
        touches: TouchMap,
        counts: Counter,
    ) -> list[OutgoingSend]:
        """Record `answered` and commit `to_start` as started, in one transaction retried
        through a lost connection; returns the sends that may now be called. A row whose
        recording itself fails is left for the reaper, never the whole chunk."""
        if not answered and not to_start:
            return []

        def step() -> tuple[Counter, list[OutgoingSend]]:
            with transaction.atomic():
                return self._record(answered, touches), self._start(to_start)

        try:
            tally, started = retry_database(step, what="recording outcomes")
        except CONNECTION_ERRORS:
            # Nothing more is called; the reaper settles the rest (uncalled: pending).
            logger.error("could not record %d outcomes; the reaper settles them", len(answered))
            counts["unrecorded"] += len(answered)
            return []
        except Exception:
            if not answered:
                raise  # starting itself fails: a batch-level error
            if len(answered) == 1:
                logger.exception("could not record delivery %s", answered[0].delivery.pk)
                counts["unrecorded"] += 1
            else:
                for send in answered:
                    self._settle([send], [], touches, counts)
            return self._settle([], to_start, touches, counts)
        counts.update(tally)
        return started

    def _start(self, sends: list[OutgoingSend]) -> list[OutgoingSend]:
        """Mark calls as started (`sent_at`) while the rows are still ours. From then on a
        dead worker's row becomes `uncertain`; before, the reaper may safely release it."""
        if not sends:
            return []
        now = clock.now()
        ours = set(
            Delivery.objects.select_for_update()
            .filter(
                pk__in=[s.delivery.pk for s in sends],
                status=DeliveryStatus.SENDING,
                lease_owner=self.owner,
            )
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=ours).update(sent_at=now)
        started = [send for send in sends if send.delivery.pk in ours]
        for send in started:
            send.delivery.sent_at = now
        return started

    def _release_uncalled(self, ids: list[int], counts: Counter) -> None:
        try:
            counts["released"] += retry_database(
                lambda: Delivery.objects.filter(
                    pk__in=ids,
                    status=DeliveryStatus.SENDING,
                    lease_owner=self.owner,
                    sent_at__isnull=True,
                ).update(
                    status=DeliveryStatus.PENDING,
                    lease_owner="",
                    lease_expires_at=None,
                    updated_at=clock.now(),
                ),
                what="releasing uncalled deliveries",
            )
        except CONNECTION_ERRORS:
            logger.error("could not release %d uncalled deliveries; the reaper will", len(ids))

    def _record(self, sends: list[OutgoingSend], touches: TouchMap) -> Counter:
        """Write what the providers answered; returns the tally, which the caller merges once
        committed (a retried transaction must not count twice)."""
        tally: Counter = Counter()
        if not sends:
            return tally
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
                delivery.sent_at = None  # set again below when it did leave
                if send.result is None:  # stopped before the call
                    self._set(delivery, status=DeliveryStatus.PENDING)
                    tally["released"] += 1
                    continue
                delivery.attempts = current[delivery.pk] + 1
                delivery.provider = send.transport.name
                attempts.append(self._attempt_row(send))
                verdict = self._apply_result(delivery, send, now, customer_effects)
                tally[verdict] += 1
                if verdict in ("sent", "failed", "uncertain"):
                    resolved.append(delivery)
            update_rows(updated, OUTCOME_FIELDS)
            DeliveryAttempt.objects.bulk_create(attempts)
            for delivery, error in customer_effects:
                apply_to_customer(delivery.enrollment.customer, error)
            advance(resolved, touches, now)  # the batch's touches, loaded when deciding
        return tally

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
