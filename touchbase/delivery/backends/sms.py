"""SMS transports that need no provider: console (development) and memory (tests, bench)."""

import sys
import threading

from touchbase.delivery.backends.base import OutgoingMessage, Sent, Transport


class ConsoleSmsTransport(Transport):
    name = "console"
    idempotent = True  # nothing leaves the machine

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.lock = threading.Lock()

    def send(self, message: OutgoingMessage, *, idempotency_key: str) -> Sent:
        with self.lock:
            self.stream.write(f"--- SMS to {message.to} (delivery {idempotency_key})\n")
            self.stream.write(f"{message.text}\n---\n")
            self.stream.flush()
        return Sent(f"console-{idempotency_key}")


class MemorySmsTransport(Transport):
    """Keeps every message in `MemorySmsTransport.outbox` (shared, like Django's locmem)."""

    name = "memory"
    idempotent = True
    outbox: list[OutgoingMessage] = []
    lock = threading.Lock()

    def send(self, message: OutgoingMessage, *, idempotency_key: str) -> Sent:
        with self.lock:
            MemorySmsTransport.outbox.append(message)
        return Sent(f"memory-{idempotency_key}")

    async def send_async(self, message: OutgoingMessage, *, idempotency_key: str) -> Sent:
        return self.send(message, idempotency_key=idempotency_key)  # no I/O: no thread hop
