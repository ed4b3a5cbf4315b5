"""Steps 3 and 4 of a batch (engine.py): send the decided deliveries and record each
provider's answer as it arrives.

Calls start only as slots free up, each committed as started (`sent_at`, its lease renewed)
just before it is made, in groups of a few, and are awaited on the engine's event loop
(calls.py); every answer is handed the moment it arrives to
the recorder (recorder.py), which writes it in a small transaction on a connection of its
own, retried through a lost connection. So a worker that dies leaves `uncertain` only the
calls in flight and the answers being written; the rows it decided but never called go back
to `pending` (claiming.py's reaper). Outcomes: sent -> next touch scheduled (or enrollment
completed); transient error -> retried after 1, 5, 15 minutes, then failed; permanent error
-> failed and the customer updated; unknown outcome -> `uncertain`, never re-sent
automatically (unless the provider honours our idempotency key).

A write (`_record`) locks the rows still ours, decides each answer's verdict here and the
sequences' next steps in sequencing.py, the same on both databases, then writes them: on
PostgreSQL in one more statement, a writable CTE (record_sql.py: two statements a write
however many answers it holds), on SQLite with the ORM (record_orm.py). A permanent error
that changes the customer writes the outcomes first, applies the change, and reads the
enrollments again.
"""

import logging
import threading
import time
import weakref
from collections import Counter, deque
from concurrent.futures import Future, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from touchbase import clock
from touchbase.delivery import record_orm, record_sql
from touchbase.delivery.backends.base import OutgoingMessage, SendError, Sent, Transport
from touchbase.delivery.calls import ProviderCalls
from touchbase.delivery.lookahead import Lookahead
from touchbase.delivery.models import Delivery, DeliveryAttempt, DeliveryStatus
from touchbase.delivery.provider_errors import ProviderError, apply_to_customer
from touchbase.delivery.recorder import RECORD_EVERY, AnswerRecorder
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


def _close_calls(calls: ProviderCalls, transports: dict) -> None:
    calls.close(list(transports.values()))


@dataclass
class OutgoingSend:
    delivery: Delivery
    message: OutgoingMessage
    transport: Transport
    result: Sent | SendError | None = None
    started_at: datetime | None = None
    latency_ms: int = 0


class SendAndRecord:
    """The engine's sending half (DeliveryEngine inherits it): needs `owner`,
    `batch_size`, `concurrency`, `lease`, `stop_event` and `_set`."""

    # --- steps 3 and 4: send, and record the answers as they arrive ---------------------

    def _send_and_record(
        self,
        sends: list[OutgoingSend],
        touches: TouchMap,
        counts: Counter,
        ahead: Lookahead | None = None,
    ):
        """Start calls only as slots free up, each committed as started (`sent_at`) just
        before it is made, and record answers as they arrive: a worker that dies leaves
        `uncertain` only the calls in flight and the answers being written; the reaper
        returns the rows it had decided but not yet called to `pending`. With `ahead`, the
        batches it decides meanwhile join the same calls (lookahead.py)."""
        waiting = deque(sends)
        if ahead is None and (self.concurrency == 1 or len(sends) == 1):  # inline: by chunks
            answered: list[OutgoingSend] = []
            while waiting and not self.stop_event.is_set():
                chunk = [waiting.popleft() for _ in range(min(RECORD_EVERY, len(waiting)))]
                started = self._settle(answered, chunk, touches, counts)
                answered = []
                for send in started:
                    self._call(send)
                    answered.append(send)
            self._settle(answered, [], touches, counts)
        else:
            self._send_concurrently(waiting, dict(touches), counts, ahead)
        if waiting:  # stopping: never called, give them back at once
            self._release_uncalled([send.delivery.pk for send in waiting], counts)

    def _send_concurrently(
        self, waiting: deque, touches: TouchMap, counts: Counter, ahead: Lookahead | None
    ) -> None:
        """Up to `concurrency` calls in flight on the engine's event loop (calls.py); each
        answer goes to the recorder the moment it arrives, which writes it on a thread and
        connection of its own (recorder.py), so starting calls never waits on recording.
        A batch decided ahead joins `waiting` as it is handed over, its touches `touches`
        (the recorder's: the newest map of a campaign's touches wins)."""
        # A slot is a call in flight or an answer not yet written (recorder.py).
        free = threading.Semaphore(self.concurrency)
        recorder = AnswerRecorder(self, touches, counts, done=lambda n: free.release(n))
        # Start the calls whose slots are free together, one commit, but at most half
        # of the slots: a kill between that commit and the requests leaves the whole group
        # `uncertain`.
        group = max(2, self.concurrency // 2)
        calls = self.provider_calls
        in_flight: list[Future] = []
        try:
            while not self.stop_event.is_set():
                if ahead is not None:
                    # The next batch is decided while this one's calls are made: two
                    # batches' rows at most wait for a call (the lease rule).
                    if len(waiting) <= self.batch_size:
                        ahead.ask()
                    batch = ahead.take(block=not waiting)
                    if batch is not None:
                        waiting.extend(batch.sends)
                        touches.update(batch.touches)
                if not waiting:
                    break
                free.acquire()
                if self.stop_event.is_set():
                    free.release()
                    break
                room = 1
                while room < min(group, len(waiting)) and free.acquire(blocking=False):
                    room += 1
                chunk = [waiting.popleft() for _ in range(min(room, len(waiting)))]
                started = self._start_calls(chunk)
                if started is None:  # the database is gone: the reaper settles the rest
                    waiting.clear()
                    break
                for _ in range(room - len(started)):
                    free.release()
                for send in started:
                    call = calls.submit(self._call_async(send))
                    call.add_done_callback(lambda _, send=send: recorder.put(send))
                    in_flight.append(call)
                recorder.record_waiting()  # when it cannot record beside (SQLite)
        finally:
            wait(in_flight)  # every answer handed over before the last write
            recorder.close()

    @property
    def provider_calls(self) -> ProviderCalls:
        """The engine's event loop for provider calls, started with its first call; closed
        by `close()` or when the engine is collected."""
        calls = self.__dict__.get("_provider_calls")
        if calls is None:
            calls = self._provider_calls = ProviderCalls(self.concurrency)
            weakref.finalize(self, _close_calls, calls, self.transports)
        return calls

    def close(self) -> None:
        """Stop the provider calls' loop and close its sessions (the worker, stopping)."""
        calls = self.__dict__.get("_provider_calls")
        if calls is not None:
            _close_calls(calls, self.transports)

    def _start_calls(self, sends: list[OutgoingSend]) -> list[OutgoingSend] | None:
        """Commit `sends` as started, retried through a lost connection; None when the
        database stays unavailable (nothing more may be called)."""
        try:
            return retry_database(lambda: self._start(sends), what="starting provider calls")
        except CONNECTION_ERRORS:
            logger.error("could not start %d calls; the reaper settles them", len(sends))
            return None

    def _call(self, send: OutgoingSend) -> None:
        """One provider call, on the sending thread; never raises."""
        if self.stop_event.is_set():
            return  # not started: released when recorded, no provider call was made
        send.started_at, started = clock.now(), time.monotonic()
        try:
            send.result = send.transport.send(send.message, idempotency_key=str(send.delivery.pk))
        except Exception as exc:
            send.result = self._failed_call(send, exc)
        send.latency_ms = int((time.monotonic() - started) * 1000)

    async def _call_async(self, send: OutgoingSend) -> None:
        """`_call` on the engine's event loop (calls.py); never raises."""
        if self.stop_event.is_set():
            return
        send.started_at, started = clock.now(), time.monotonic()
        try:
            send.result = await send.transport.send_async(
                send.message, idempotency_key=str(send.delivery.pk)
            )
        except Exception as exc:
            send.result = self._failed_call(send, exc)
        send.latency_ms = int((time.monotonic() - started) * 1000)

    @staticmethod
    def _failed_call(send: OutgoingSend, exc: Exception) -> SendError:
        if isinstance(exc, SendError):
            return exc
        # A bug or an unexpected library error mid-call: the request may have left, and at
        # most once means `uncertain`, never a retry.
        logger.exception(
            "transport %s failed on delivery %s", send.transport.name, send.delivery.pk
        )
        return SendError(f"{type(exc).__name__}: {exc}", unknown_outcome=True, code=INTERNAL_ERROR)

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
        """Mark calls as started (`sent_at`) while the rows are still ours, and renew their
        lease from now: from then on a dead worker's row becomes `uncertain`, so it must not
        expire while its call is made. Before, the reaper may safely release it."""
        if not sends:
            return []
        now = clock.now()
        adapt = connection.ops.adapt_datetimefield_value
        ids = [send.delivery.pk for send in sends]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Delivery._meta.db_table} SET sent_at = %s, lease_expires_at = %s"
                f" WHERE id IN ({', '.join(['%s'] * len(ids))})"
                " AND status = %s AND lease_owner = %s RETURNING id",
                [adapt(now), adapt(now + self.lease), *ids, DeliveryStatus.SENDING, self.owner],
            )
            ours = {row[0] for row in cursor.fetchall()}
        started = [send for send in sends if send.delivery.pk in ours]
        for send in started:
            send.delivery.sent_at, send.delivery.lease_expires_at = now, now + self.lease
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
