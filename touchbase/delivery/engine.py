"""The delivery engine: one batch of due touches from claim to outcome.

1. Claim up to `batch_size` due deliveries with a lease (claiming.py).
2. Decide, in one transaction, what each one gets (the rows and the facts the rules need
   are read by batch.py in a fixed number of statements; the decided write names only the
   columns some verdict changed), in PRODUCT §3 order: enrollment no longer
   active -> cancelled; business not set up (no review destination or postal address) ->
   held (`setup_incomplete`) until its settings are saved complete; a business whose
   owner has not confirmed their email -> deferred; no address / no consent / opted out ->
   skipped (the sequence goes on); outside the recipient's send window -> deferred into the
   next window, or skipped (`no_legal_window`) when the rules leave none; over a recipient
   cap or the business's throttle -> deferred; otherwise rendered and marked `sending` with
   the exact message stored, before any provider is called. An exception while deciding
   one delivery fails that delivery alone (`internal_error`, with the exception's class
   and message).
3. Send (sending.py), and 4. record each answer as it arrives (recording.py): calls start only as
   threads free up, each committed as started just before it is made; outcomes are written
   in small transactions retried through a lost database connection.

The worker runs batches back to back for a few seconds (`run_batches`), each next one
claimed and decided while the one before is being sent (lookahead.py).

Guarantee: at most once per touch. A worker that dies leaves `uncertain` (via the reaper)
only the calls it had started and not yet recorded; the rows it claimed or decided but never
called go back to `pending` (no provider was called for them).
"""

import hashlib
import logging
import operator
import os
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from touchbase import clock
from touchbase.campaigns.models import EnrollmentStatus
from touchbase.channels import Channel
from touchbase.customers.reachability import channel_block
from touchbase.delivery.backends import transport_for
from touchbase.delivery.backends.base import Transport
from touchbase.delivery.batch import BatchContext, locked_batch, recipient_address
from touchbase.delivery.bulk_write import update_rows
from touchbase.delivery.claiming import claim_due
from touchbase.delivery.lookahead import DecidedBatch, Lookahead
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.delivery.pacing import THROTTLE_DEFER_REASON, Throttle
from touchbase.delivery.recording import INTERNAL_ERROR, RESPONSE_LIMIT, OutgoingSend
from touchbase.delivery.rendering import render_delivery
from touchbase.delivery.segments import MAX_SEGMENTS, count_segments
from touchbase.delivery.send_window import NO_LEGAL_WINDOW
from touchbase.delivery.sending import SendAndRecord
from touchbase.delivery.sequencing import TouchMap, advance
from touchbase.tenancy.setup import SETUP_INCOMPLETE, setup_complete
from touchbase.webhooks.events import emit_delivery_events

logger = logging.getLogger(__name__)

UNVERIFIED_RECHECK = timedelta(minutes=15)
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
]
read_decided = operator.attrgetter(*DECIDED_FIELDS)


def changed_fields(deliveries: list[Delivery], loaded: list[tuple]) -> list[str]:
    """The decided fields that some row of the batch changed, and `updated_at`: a column
    no verdict touched would be written back as it was read, and each one costs an array
    to quote and a column to update (one compare per column, in C)."""
    columns_before = zip(*loaded, strict=True)
    columns_after = zip(*[read_decided(delivery) for delivery in deliveries], strict=True)
    return [
        name
        for name, before, after in zip(DECIDED_FIELDS, columns_before, columns_after, strict=True)
        if before != after
    ] + ["updated_at"]


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
class BatchOutcome:
    claimed: int = 0
    counts: Counter = field(default_factory=Counter)
    more: bool = False  # the last claim was full: more may be due right now

    def add(self, batch: DecidedBatch | Lookahead) -> None:
        self.claimed += batch.claimed
        self.counts.update(batch.counts)
        self.more = batch.full


class DeliveryEngine(SendAndRecord):
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
        """One batch, from claim to its last answer recorded."""
        return self._run(most=1)

    def run_batches(self, most: int, *, seconds: float | None = None) -> BatchOutcome:
        """Up to `most` batches back to back while each claim comes back full, and none
        claimed after `seconds`, each next one claimed and decided while the one before is
        being sent (lookahead.py) where a second connection can do it: PostgreSQL, outside a
        caller's transaction, calls made concurrently. Elsewhere one batch, `run_batch`."""
        if most == 1 or not self._can_decide_ahead():
            return self.run_batch()
        return self._run(most, None if seconds is None else time.monotonic() + seconds)

    def _run(self, most: int, until: float | None = None) -> BatchOutcome:
        batch = self._claim_and_decide()
        outcome = BatchOutcome()
        outcome.add(batch)
        ahead = None
        if batch.full and most > 1:
            ahead = Lookahead(
                self._claim_and_decide, most=most - 1, until=until, stop=self.stop_event
            )
        try:
            if batch.sends or ahead is not None:
                self._send_and_record(batch.sends, batch.touches, outcome.counts, ahead)
        finally:
            if ahead is not None:
                untaken = ahead.close()
                if untaken is not None:  # stopping: decided, never called
                    ids = [send.delivery.pk for send in untaken.sends]
                    self._release_uncalled(ids, ahead.counts)
                outcome.add(ahead)
        if ahead is not None and ahead.error is not None:
            raise ahead.error
        if outcome.claimed:
            logger.info("claimed %d: %s", outcome.claimed, dict(outcome.counts))
        return outcome

    def _can_decide_ahead(self) -> bool:
        return (
            connection.vendor == "postgresql"
            and not connection.in_atomic_block
            and self.concurrency > 1
        )

    def _claim_and_decide(self) -> DecidedBatch:
        now = clock.now()
        counts: Counter = Counter()
        # Claim and decide in one transaction: a crash or an error before its commit leaves
        # the rows `pending` (no provider was called for them), and the batch costs one
        # commit, not two.
        with transaction.atomic():
            ids = claim_due(
                owner=self.owner,
                limit=self.batch_size,
                lease_seconds=int(self.lease.total_seconds()),
                now=now,
            )
            sends, touches = self._decide(ids, now, counts) if ids else ([], {})
        return DecidedBatch(len(ids), sends, touches, counts, full=len(ids) == self.batch_size)

    # --- step 2: decide ------------------------------------------------------------------

    def _decide(
        self, ids: list[int], now: datetime, counts: Counter
    ) -> tuple[list[OutgoingSend], TouchMap]:
        with transaction.atomic(savepoint=False):  # inside run_batch's: no savepoint trip
            deliveries = locked_batch(ids, self.owner)
            if not deliveries:
                return [], {}
            context = BatchContext.load(deliveries, now)
            throttle = Throttle(
                context.businesses,
                {
                    (d.business_id, touch.channel)
                    for d in deliveries
                    if (touch := context.touch_of(d)) is not None
                },
                now,
            )
            sends: list[OutgoingSend] = []
            resolved: list[Delivery] = []
            loaded = [read_decided(delivery) for delivery in deliveries]
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
            update_rows(deliveries, changed_fields(deliveries, loaded))
            emit_delivery_events(resolved)
            throttle.save()
            advance(resolved, context.touches, now)
        return sends, context.touches

    def _verdict(
        self, delivery: Delivery, context: BatchContext, throttle: Throttle, now: datetime
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
        if not setup_complete(delivery.business):
            # No footer address or no review destination: hold rather than send an email
            # the law forbids or a link that leads nowhere; saving the settings releases it.
            return self._set(
                delivery, status=DeliveryStatus.HELD, defer_reason=SETUP_INCOMPLETE, **release
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
        address = recipient_address(customer, touch.channel)
        block = channel_block(
            customer,
            touch.channel,
            suppressed=(delivery.business_id, customer.phone) in context.suppressed,
        )
        if block:
            return self._set(delivery, status=DeliveryStatus.SKIPPED, skip_reason=block, **release)

        window, opening = context.send_window(customer, delivery.business)
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
