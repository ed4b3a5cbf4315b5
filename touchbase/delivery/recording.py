"""Step 4 of a batch (engine.py): record each provider's answer as it arrives.

Every answer is handed, the moment it arrives, to the recorder (recorder.py), which writes
it in a small transaction on a connection of its own, retried through a lost connection
(`_settle`). Outcomes: sent -> next touch scheduled (or enrollment completed); transient
error -> retried after 1, 5, 15 minutes, then failed; permanent error -> failed and the
customer updated; unknown outcome -> `uncertain`, never re-sent automatically (unless the
provider honours our idempotency key).

A write (`_record`) locks the rows still ours, decides each answer's verdict here and the
sequences' next steps in sequencing.py, the same on both databases, then writes them: on
PostgreSQL in one more statement, a writable CTE (record_sql.py: two statements a write
however many answers it holds), on SQLite with the ORM (record_orm.py). A permanent error
that changes the customer writes the outcomes first, applies the change, and reads the
enrollments again. Step 3, starting the calls, is sending.py.
"""

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from touchbase import clock
from touchbase.delivery import record_orm, record_sql
from touchbase.delivery.backends.base import OutgoingMessage, SendError, Sent, Transport
from touchbase.delivery.models import Delivery, DeliveryAttempt, DeliveryStatus
from touchbase.delivery.provider_errors import ProviderError, apply_to_customer
from touchbase.delivery.resilience import CONNECTION_ERRORS, retry_database
from touchbase.delivery.sequencing import (
    NextSteps,
    TouchMap,
    emit_completions,
    next_steps,
    read_enrollments,
)
from touchbase.webhooks.events import emit_delivery_events, one_write

logger = logging.getLogger(__name__)

RETRY_BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))
MAX_ATTEMPTS = len(RETRY_BACKOFF) + 1
RESPONSE_LIMIT = 2000
INTERNAL_ERROR = "internal_error"


@dataclass
class OutgoingSend:
    delivery: Delivery
    message: OutgoingMessage
    transport: Transport
    result: Sent | SendError | None = None
    started_at: datetime | None = None
    latency_ms: int = 0


class Recording:
    """The engine's recording half (DeliveryEngine inherits it through SendAndRecord):
    needs `owner`, `_start` and `_set`."""

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

    def _record(self, sends: list[OutgoingSend], touches: TouchMap) -> Counter:
        """Write what the providers answered; returns the tally, which the caller merges once
        committed (a retried transaction must not count twice). PostgreSQL: two statements
        (record_sql.py); SQLite: the ORM (record_orm.py). The verdicts are the same on both."""
        tally: Counter = Counter()
        if not sends:
            return tally
        now = clock.now()
        store = record_sql if connection.vendor == "postgresql" else record_orm
        # Inside `_settle`'s transaction (no savepoint trips); its webhook events, delivery
        # and enrollment ones alike, take one endpoint look-up and one INSERT (one_write).
        with transaction.atomic(savepoint=False), one_write():
            # Rows still ours, or turned uncertain by a reaper while we waited on the
            # provider: what we now know is better than "uncertain". With them, their
            # enrollments' status and campaign for the next steps (only the deliveries
            # are locked, as before).
            ids = [send.delivery.pk for send in sends]
            businesses = {send.delivery.business_id for send in sends}
            current, enrollments = store.lock_ours(ids, self.owner, businesses)
            updated: list[Delivery] = []
            resolved: list[Delivery] = []
            attempts: list[tuple] = []
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
            emit_delivery_events(resolved)
            if customer_effects:
                # The outcomes first, as the customer's services may read them; a customer
                # effect may just have stopped a sequence (an unreachable customer): then
                # the enrollments are read again, after it.
                store.write(updated, attempts, NextSteps(), now, with_events=False)
                updated, attempts = [], []
                for delivery, error in customer_effects:
                    apply_to_customer(delivery.enrollment.customer, error)
                enrollments = read_enrollments(d.enrollment_id for d in resolved)
            steps = next_steps(resolved, touches, enrollments)  # the batch's touches
            emit_completions(steps)
            store.write(updated, attempts, steps, now)
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
    def _attempt_row(send: OutgoingSend) -> tuple:
        """The call's attempt row, in record_sql.ATTEMPT_COLUMNS order."""
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
        delivery = send.delivery
        return (
            delivery.pk,
            delivery.attempts,
            send.transport.name,
            outcome,
            send.started_at,
            send.latency_ms,
            message_id,
            code[:40],
            response[:RESPONSE_LIMIT],
        )
