"""SMS through Twilio's Messages API with the official `twilio` package.

`send` uses the SDK's synchronous client (requests); `send_async` its asynchronous one
(aiohttp), a client per event loop since an aiohttp session belongs to the loop that made
it. Both make the same request and map every answer and failure onto the same outcomes.
"""

import asyncio
import logging
from datetime import datetime
from urllib.parse import urlencode

import aiohttp
import requests
import requests.adapters
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from touchbase.delivery.backends.base import OutgoingMessage, SendError, Sent, Transport
from touchbase.delivery.provider_errors import classify_twilio

TWILIO_API = "https://api.twilio.com"


class RebasedHttpClient(TwilioHttpClient):
    """Sends the SDK's requests to another base URL (a regional proxy, or the local
    stand-in the tests run), keeping everything else of the official client."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


class AsyncRebasedHttpClient(AsyncTwilioHttpClient):
    """The SDK's aiohttp client with the sync client's timeouts (connect and each read,
    not the whole call), a pool as large as the calls in flight, proxies from the
    environment ignored (as `trust_env=False`), and an optional other base URL. The form is
    sent as the bytes `requests` would send (aiohttp's FormData builds the same bytes with
    ~12 µs more of CPU a call), and the request is logged only when the SDK's logger would
    show it."""

    def __init__(self, base_url: str, *, timeout: float, pool_size: int):
        super().__init__(pool_connections=False, timeout=timeout)
        self.base_url = base_url.rstrip("/")
        self.pool_size = pool_size
        self.session: aiohttp.ClientSession | None = None
        self.timeouts = aiohttp.ClientTimeout(sock_connect=timeout, sock_read=timeout)

    async def request(self, method, url, params=None, data=None, headers=None, auth=None,
                      timeout=None, allow_redirects=False) -> Response:  # fmt: skip
        """The SDK's own `request`, with the options above (it passes no timeout)."""
        if self.base_url and url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        if self.session is None:  # made here: it belongs to the loop running this call
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.pool_size)
            )
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = aiohttp.encode_basic_auth(*auth)
        if isinstance(data, dict):  # the SDK's Content-Type says form-urlencoded already
            data = urlencode(data, doseq=True).encode()
        kwargs = {
            "method": method.upper(),
            "url": url,
            "params": params,
            "data": data,
            "headers": headers,
            "timeout": (
                aiohttp.ClientTimeout(sock_connect=timeout, sock_read=timeout)
                if timeout
                else self.timeouts
            ),
            "allow_redirects": allow_redirects,
        }
        logged = self.logger.isEnabledFor(logging.INFO)
        if logged:
            self.log_request(kwargs)
        async with self.session.request(**kwargs) as response:
            if logged:
                self.log_response(response.status, response)
            return Response(response.status, await response.text(), response.headers)

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None


def _rest_error(exc: TwilioRestException) -> SendError:
    error = classify_twilio(exc.code, exc.status)
    return SendError(
        f"Twilio {exc.status} {exc.code}: {exc.msg}",
        permanent=error.permanent,
        code=str(exc.code or exc.status),
        customer_effect=error.customer_effect,
        response=str(exc.msg)[:1000],
    )


class TwilioSmsTransport(Transport):
    name = "twilio"
    # The Messages API takes no idempotency key: after an unknown outcome we must not resend.
    idempotent = False

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        messaging_service_sid: str = "",
        from_number: str = "",
        status_callback_url: str = "",
        timeout: float = 10.0,
        api_base_url: str = "",
        pool_size: int = 64,
    ):
        if not (messaging_service_sid or from_number):
            raise ValueError("Twilio needs a Messaging Service SID or a from number")
        http_client = (
            RebasedHttpClient(api_base_url, timeout=timeout)
            if api_base_url
            else TwilioHttpClient(timeout=timeout)
        )
        # One pooled connection per sending thread (urllib3 keeps 10 by default and would
        # reconnect for every send beyond that).
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
        http_client.session.mount("https://", adapter)
        http_client.session.mount("http://", adapter)
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.account = (account_sid, auth_token)
        self.async_options = {"base_url": api_base_url, "timeout": timeout, "pool_size": pool_size}
        self.async_clients: dict[asyncio.AbstractEventLoop, Client] = {}
        self.messaging_service_sid = messaging_service_sid
        self.from_number = from_number
        self.status_callback_url = status_callback_url

    def _params(self, message: OutgoingMessage, idempotency_key: str) -> dict:
        params = {"to": message.to, "body": message.text}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self.from_number
        if self.status_callback_url:
            params["status_callback"] = f"{self.status_callback_url}?delivery={idempotency_key}"
        return params

    def send(self, message: OutgoingMessage, *, idempotency_key: str) -> Sent:
        try:
            created = self.client.messages.create(**self._params(message, idempotency_key))
        except TwilioRestException as exc:
            raise _rest_error(exc) from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise SendError(f"connect timeout: {exc}", code="connect_timeout") from exc
        except requests.exceptions.ConnectionError as exc:
            if "Connection refused" in str(exc) or "NewConnectionError" in str(exc):
                raise SendError(f"cannot connect: {exc}", code="connect") from exc
            raise SendError(f"{exc}", unknown_outcome=True, code="no_response") from exc
        except requests.exceptions.RequestException as exc:  # read timeout and the like
            raise SendError(
                f"{type(exc).__name__}: {exc}", unknown_outcome=True, code="no_response"
            ) from exc
        return Sent(created.sid, response=f"{created.status}")

    async def send_async(self, message: OutgoingMessage, *, idempotency_key: str) -> Sent:
        loop = asyncio.get_running_loop()
        client = self.async_clients.get(loop)
        if client is None:
            client = self.async_clients[loop] = Client(
                *self.account, http_client=AsyncRebasedHttpClient(**self.async_options)
            )
        try:
            created = await client.messages.create_async(**self._params(message, idempotency_key))
        except TwilioRestException as exc:
            raise _rest_error(exc) from exc
        # As `send` classifies requests' errors: only a connection never made is safe to
        # retry (a TLS failure counts as unknown there too); a read timeout or a dropped
        # connection may come after Twilio accepted the message.
        except aiohttp.ConnectionTimeoutError as exc:
            raise SendError(f"connect timeout: {exc}", code="connect_timeout") from exc
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc, aiohttp.ClientSSLError):
                raise SendError(f"{exc}", unknown_outcome=True, code="no_response") from exc
            raise SendError(f"cannot connect: {exc}", code="connect") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendError(
                f"{type(exc).__name__}: {exc}", unknown_outcome=True, code="no_response"
            ) from exc
        return Sent(created.sid, response=f"{created.status}")

    async def close_async(self) -> None:
        client = self.async_clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.http_client.close()

    def messages_to(self, to: str, *, after: datetime, before: datetime) -> list:
        """Twilio's log of messages to `to` sent between `after` and `before` (reconcile)."""
        return self.client.messages.list(
            to=to, date_sent_after=after, date_sent_before=before, limit=100
        )
