"""`send_async` against the real stand-in: the same request and the same outcomes as `send`
(test_transports.py), through the SDK's asynchronous client on an engine's event loop."""

import asyncio

import pytest

from tests.delivery.test_transports import SMS, assert_one_twilio_message_request, twilio_transport
from tests.servers import Behaviour, free_port
from touchbase.delivery.backends.base import OutgoingMessage, SendError, Sent, Transport
from touchbase.delivery.calls import ProviderCalls


@pytest.fixture
def calls():
    """An engine's event loop; `run(transport, coroutine)` awaits it there."""
    loop = ProviderCalls(8)
    used: list = []

    def run(transport, call, timeout=10):
        used.append(transport)
        return loop.submit(call).result(timeout)

    yield run
    loop.close(used)


def send_async(calls, transport, key="1"):
    return calls(transport, transport.send_async(SMS, idempotency_key=key))


def test_async_send_makes_the_same_request_as_the_sync_one(twilio, calls):
    sent = send_async(calls, twilio_transport(twilio), "77")

    assert_one_twilio_message_request(twilio, "77")
    assert sent.provider_message_id.startswith("SM") and sent.response == "queued"


def test_async_sends_share_the_loops_connections(twilio, calls):
    transport = twilio_transport(twilio)

    async def many():
        return await asyncio.gather(
            *(transport.send_async(SMS, idempotency_key=str(n)) for n in range(20))
        )

    sent = calls(transport, many())

    assert len({s.provider_message_id for s in sent}) == 20 == len(twilio.requests)


@pytest.mark.parametrize(
    ("status", "code", "permanent", "effect"),
    [
        (400, 21211, True, "invalid"),
        (400, 21614, True, "landline"),
        (400, 21610, True, "carrier_opt_out"),
        (429, 20429, False, ""),
        (500, None, False, ""),
        (503, None, False, ""),
    ],
)
def test_async_errors_are_classified_as_the_sync_ones(
    twilio, calls, status, code, permanent, effect
):
    twilio.default = Behaviour(status=status, code=code)
    transport = twilio_transport(twilio)

    with pytest.raises(SendError) as sync_error:
        transport.send(SMS, idempotency_key="1")
    with pytest.raises(SendError) as async_error:
        send_async(calls, transport)

    got = async_error.value
    assert (got.permanent, got.customer_effect, got.unknown_outcome) == (permanent, effect, False)
    assert (got.code, str(got), got.response) == (
        sync_error.value.code,
        str(sync_error.value),
        sync_error.value.response,
    )


def test_async_hanging_request_times_out_as_an_unknown_outcome(twilio, calls):
    twilio.default = Behaviour(delay=3)

    with pytest.raises(SendError) as error:
        send_async(calls, twilio_transport(twilio, timeout=1))

    assert error.value.unknown_outcome and not error.value.permanent
    assert error.value.code == "no_response"
    assert len(twilio.requests) == 1


def test_async_dropped_connection_is_an_unknown_outcome(twilio, calls):
    twilio.default = Behaviour(drop=True)

    with pytest.raises(SendError) as error:
        send_async(calls, twilio_transport(twilio))

    assert error.value.unknown_outcome and error.value.code == "no_response"


def test_async_refused_connection_is_transient_and_safe_to_retry(twilio, calls):
    class Nowhere:
        url = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    with pytest.raises(SendError) as error:
        send_async(calls, twilio_transport(Nowhere))

    assert not error.value.unknown_outcome and not error.value.permanent
    assert error.value.code == "connect"


def test_a_blocking_transport_runs_on_the_loops_pool_unchanged(calls):
    class Blocking(Transport):
        name = "blocking"

        def send(self, message: OutgoingMessage, *, idempotency_key: str) -> Sent:
            if idempotency_key == "bad":
                raise SendError("refused", permanent=True, code="refused")
            return Sent(f"id-{idempotency_key}")

    transport = Blocking()

    assert send_async(calls, transport, "5") == Sent("id-5")
    with pytest.raises(SendError) as error:
        send_async(calls, transport, "bad")
    assert error.value.permanent and error.value.code == "refused"
