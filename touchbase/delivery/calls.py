"""Provider calls in flight (step 3 of a batch), on an event loop of the engine's own.

A thread per call cost ~2 ms of CPU per Twilio request and topped out near 400 calls a
second at 50 ms latency on two cores; awaited on one loop, the SDK's asynchronous client
makes a call for under 1 ms. The loop and its thread live across batches (an HTTP session
belongs to its loop, so its connections stay open between batches) and stop with the
engine. How many calls are in flight is the sending thread's business (sending.py's
slots): the loop runs whatever it is handed. Transports without an asynchronous client run
their blocking `send` on the loop's thread pool, as large as the calls allowed in flight.
"""

import asyncio
import logging
import threading
from collections.abc import Coroutine, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

logger = logging.getLogger(__name__)

CLOSE_TIMEOUT = 10.0  # seconds to close the transports' sessions when stopping


class ProviderCalls:
    def __init__(self, concurrency: int):
        self.concurrency = concurrency
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.pool: ThreadPoolExecutor | None = None
        self.lock = threading.Lock()

    def submit(self, call: Coroutine) -> Future:
        """Run `call` on the loop (started on first use); its future, from any thread."""
        return self.submit_all([call])[0]

    def submit_all(self, calls: list[Coroutine]) -> list[Future]:
        """Run every one of `calls` on the loop; their futures. One wake-up of the loop for
        the lot (`run_coroutine_threadsafe` writes to the loop's wake-up pipe once a call,
        ~5% of a zero-latency engine's samples)."""
        with self.lock:
            if self.loop is None:
                self._start()
            loop = self.loop
        futures = [Future() for _ in calls]
        loop.call_soon_threadsafe(self._run_all, loop, list(zip(calls, futures, strict=True)))
        return futures

    @staticmethod
    def _run_all(loop: asyncio.AbstractEventLoop, calls: list[tuple[Coroutine, Future]]):
        for call, future in calls:
            if future.set_running_or_notify_cancel():
                loop.create_task(call).add_done_callback(
                    lambda task, future=future: _settle(task, future)
                )
            else:
                call.close()

    def _start(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="provider-send")
        self.loop.set_default_executor(self.pool)
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="provider-calls", daemon=True
        )
        self.thread.start()

    def close(self, transports: Iterable) -> None:
        """Close the transports' sessions on the loop, then stop it; call once no call is in
        flight any more. The next `submit` starts a new loop."""
        with self.lock:
            loop, thread, pool = self.loop, self.thread, self.pool
            self.loop = self.thread = self.pool = None
        if loop is None:
            return

        async def close_all() -> None:
            for transport in transports:
                await transport.close_async()

        try:
            asyncio.run_coroutine_threadsafe(close_all(), loop).result(CLOSE_TIMEOUT)
        except Exception:  # stopping anyway: an unclosed socket is the OS's to reclaim
            logger.exception("could not close the providers' sessions")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(CLOSE_TIMEOUT)
        if not thread.is_alive():
            loop.close()
        pool.shutdown(wait=False)


def _settle(task: asyncio.Task, future: Future) -> None:
    """Hand a finished task's outcome to the caller's thread-safe future."""
    if task.cancelled():  # the loop stopping under it: the caller must not wait forever
        future.set_exception(asyncio.CancelledError())
    elif task.exception() is not None:
        future.set_exception(task.exception())
    else:
        future.set_result(task.result())
