"""Step 3 of a batch (engine.py): send the decided deliveries.

Calls start only as slots free up, each committed as started (`sent_at`, its lease renewed)
just before it is made, in groups of a few, and are awaited on the engine's event loop
(calls.py); every answer goes the moment it arrives to the recorder (recorder.py,
recording.py). So a worker that dies leaves `uncertain` only the calls in flight and the
answers being written; the rows it decided but never called go back to `pending`
(claiming.py's reaper). A batch decided ahead (lookahead.py) joins the same slots.
"""

import logging
import threading
import time
import weakref
from collections import Counter, deque
from concurrent.futures import Future, wait

from django.db import connection

from touchbase import clock
from touchbase.bulk_reads import among, among_sql
from touchbase.delivery.backends.base import SendError
from touchbase.delivery.calls import ProviderCalls
from touchbase.delivery.claiming import give_back
from touchbase.delivery.lookahead import Lookahead
from touchbase.delivery.models import NOT_YET_CALLED, Delivery, DeliveryStatus
from touchbase.delivery.recorder import RECORD_EVERY, AnswerRecorder
from touchbase.delivery.recording import INTERNAL_ERROR, OutgoingSend, Recording
from touchbase.delivery.resilience import CONNECTION_ERRORS, retry_database
from touchbase.delivery.sequencing import TouchMap

logger = logging.getLogger(__name__)


def _close_calls(calls: ProviderCalls, transports: dict) -> None:
    calls.close(list(transports.values()))


class SendAndRecord(Recording):
    """The engine's sending half (DeliveryEngine inherits it), over its recording half:
    needs `owner`, `batch_size`, `concurrency`, `lease`, `stop_event` and `_set`."""

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
                made = calls.submit_all([self._call_async(send) for send in started])
                for send, call in zip(started, made, strict=True):
                    call.add_done_callback(lambda _, send=send: recorder.put(send))
                in_flight.extend(made)
                if len(in_flight) > 2 * self.concurrency:  # a step's answered calls, let go
                    in_flight = [call for call in in_flight if not call.done()]
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

    def _start(self, sends: list[OutgoingSend]) -> list[OutgoingSend]:
        """Mark calls as started (`sent_at`) while the rows are still ours and not started,
        and renew their lease from now: from then on a dead worker's row becomes
        `uncertain`, so it must not expire while its call is made. Before, the reaper may
        safely release it, and a stop or an opt-out may take it back (NOT_YET_CALLED): a
        row taken back and decided again is started once, whichever send of it comes first."""
        if not sends:
            return []
        now = clock.now()
        adapt = connection.ops.adapt_datetimefield_value
        listed, ids = among_sql("id", [send.delivery.pk for send in sends], "bigint")
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Delivery._meta.db_table} SET sent_at = %s, lease_expires_at = %s"
                f" WHERE {listed} AND status = %s AND lease_owner = %s AND sent_at IS NULL"
                " RETURNING id",
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
                lambda: give_back(
                    Delivery.objects.filter(
                        NOT_YET_CALLED, among("pk", ids), lease_owner=self.owner
                    ),
                    now=clock.now(),
                ),
                what="releasing uncalled deliveries",
            )
        except CONNECTION_ERRORS:
            logger.error("could not release %d uncalled deliveries; the reaper will", len(ids))
