"""Writing the providers' answers as they arrive (step 4 of a batch), beside the calls.

On PostgreSQL a thread with a database connection of its own takes every answer already
waiting, writes them in one small transaction and goes straight back for more: it never
waits to fill a group, and the thread that starts calls never waits on it. So a worker
killed mid-batch loses only the answers of the transaction in progress. Where a second
connection could not see the batch (SQLite's single writer; a caller's open transaction,
whose decided rows nobody else can read yet) the sending thread writes them itself, every
RECORD_EVERY answers or RECORD_INTERVAL.
"""

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable

from django.db import connection

logger = logging.getLogger(__name__)

# Where the sending thread records (no thread beside it): this often, so a dead worker loses
# at most this much of what providers told it and a batch still costs a few transactions.
RECORD_EVERY = 10
RECORD_INTERVAL = 0.1  # seconds
CLOSE = object()  # after the last answer of a batch


class AnswerRecorder:
    def __init__(self, engine, touches, counts: Counter, *, done: Callable[[int], None]):
        """`engine._settle(answers, [], touches, counts)` writes a group (recording.py);
        `done(n)` frees the slots of n answers that no longer need them, a written group's
        at once, so the sending thread wakes to start them as one group, one commit."""
        self.engine, self.touches, self.counts, self.done = engine, touches, counts, done
        self.answers: queue.SimpleQueue = queue.SimpleQueue()
        self.beside = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.last_recorded = time.monotonic()
        self.thread: threading.Thread | None = None
        if self.beside:
            self.thread = threading.Thread(target=self._run, name="recorder", daemon=True)
            self.thread.start()

    def put(self, send) -> None:
        """Hand over one answered call (from any thread). Recording beside, its slot frees
        once the answer is written: calls in flight and answers unwritten together stay
        within `concurrency`, so a kill never catches more than that."""
        self.answers.put(send)
        if not self.beside:
            self.done(1)

    def record_waiting(self) -> None:
        """On the sending thread, when nothing records beside it: write what is waiting
        once there is enough of it or it has waited long enough."""
        if self.beside:
            return
        due = time.monotonic() - self.last_recorded >= RECORD_INTERVAL
        if due or self.answers.qsize() >= RECORD_EVERY:
            self._write(self._take())
            self.last_recorded = time.monotonic()

    def close(self) -> None:
        """Write every answer handed over; call once all calls have returned."""
        if self.thread is not None:
            self.answers.put(CLOSE)
            self.thread.join()
        else:
            self._write(self._take())

    def _take(self) -> list:
        taken = []
        while True:
            try:
                taken.append(self.answers.get_nowait())
            except queue.Empty:
                return taken

    def _write(self, answers: list) -> None:
        if not answers:
            return
        try:
            self.engine._settle(answers, [], self.touches, self.counts)
        except Exception:  # a bug here must not lose the rest of the batch's answers
            logger.exception("could not record %d answers; the reaper settles them", len(answers))
            self.counts["unrecorded"] += len(answers)

    def _run(self) -> None:
        try:
            while True:
                answers = [self.answers.get(), *self._take()]
                written = [answer for answer in answers if answer is not CLOSE]
                self._write(written)
                if written:
                    self.done(len(written))
                if CLOSE in answers:
                    return
        finally:
            connection.close()  # this thread's own connection
