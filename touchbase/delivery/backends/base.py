"""The interface every transport (email or SMS provider) implements.

A transport sends one rendered message and either returns `Sent` or raises `SendError`,
which says what the engine must do: a *permanent* error fails the touch, a transient one is
retried with backoff, and an *unknown outcome* (the request left but no answer came back)
is retried only by a transport whose provider honours our idempotency key; otherwise the
touch becomes `uncertain`, so a customer is never texted twice.

`send_async` is the same call awaited on the engine's event loop (calls.py): a transport
with an asynchronous client implements it natively; the default runs `send` on the loop's
bounded thread pool, so a blocking transport (SMTP) works unchanged.
"""

import asyncio
import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutgoingMessage:
    channel: str
    to: str
    text: str
    subject: str = ""
    html: str = ""
    from_name: str = ""
    reply_to: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sent:
    provider_message_id: str
    response: str = ""


class SendError(Exception):
    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        unknown_outcome: bool = False,
        code: str = "",
        customer_effect: str = "",
        response: str = "",
    ):
        super().__init__(message)
        self.permanent = permanent
        self.unknown_outcome = unknown_outcome
        self.code = code
        self.customer_effect = customer_effect
        self.response = response


class Transport(ABC):
    name = "transport"
    # True when the provider de-duplicates on our idempotency key, so re-sending after an
    # unknown outcome cannot produce a second message.
    idempotent = False

    @abstractmethod
    def send(self, message: OutgoingMessage, *, idempotency_key: str) -> Sent:
        """Hand one message to the provider; raise SendError when it is not accepted."""

    async def send_async(self, message: OutgoingMessage, *, idempotency_key: str) -> Sent:
        """`send` on the running loop's thread pool; the same outcomes, raised the same."""
        call = functools.partial(self.send, message, idempotency_key=idempotency_key)
        return await asyncio.get_running_loop().run_in_executor(None, call)

    async def close_async(self) -> None:
        """Release what `send_async` opened on the running loop (its HTTP sessions)."""
        return None  # the default opens nothing
